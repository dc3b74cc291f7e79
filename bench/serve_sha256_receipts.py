"""Bench-only: `braided serve submission` with receipt codes hashed by SHA-256 of the
whole code instead of argon2id, to measure the POST path as it will be once the
trust-boundary issue (10) makes that change in services/submission/receipts.py.
Nothing in the product reads this; bench/http.py starts it beside the real one.

    .venv/bin/python bench/serve_sha256_receipts.py --port PORT   (env as for braided serve)
"""

from __future__ import annotations

import hashlib
import hmac
import sys
from pathlib import Path

# The repository, not this folder (whose http.py would shadow the standard library's).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from braided import cli  # noqa: E402
from services.submission import receipts  # noqa: E402


async def hash_code(code: str) -> str:
    return "sha256$" + hashlib.sha256(code.encode()).hexdigest()


async def verify(stored_hash: str, code: str) -> bool:
    return hmac.compare_digest(stored_hash, await hash_code(code))


if __name__ == "__main__":
    receipts.hash_code, receipts.verify = hash_code, verify
    sys.exit(cli.main(["serve", "submission", *sys.argv[1:]]))
