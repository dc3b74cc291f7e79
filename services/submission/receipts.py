"""Receipt codes: shown to the author once, stored only as a hash of the whole code.

A code looks like `BR-7K2QM-XJ4TR-9PD3W-HC6NE`: 100 random bits. What is stored
is `digest(code)`, a SHA-256 of the whole normalised code, and a look-up is one
index probe on it. A fast hash is enough: nobody can search 2^100 codes, and no
part of a code is stored in clear.

Rows stored before kept the first two groups in clear (`lookup_key`) and an
argon2id hash of the whole code (`verify`); they keep working until they expire,
and move to the digest at their first successful look-up.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)  # OWASP's argon2id minimum
_SHAPE = re.compile(r"^BR-([0-9A-Z]{5})-([0-9A-Z]{5})-([0-9A-Z]{5})-([0-9A-Z]{5})$")


def new_code() -> str:
    # 100 bits in one draw from the OS (twenty secrets.choice calls were twenty).
    return _spell(secrets.randbits(100))


def _spell(bits: int) -> str:
    """100 bits as BR- and four groups of five Crockford base32 characters."""
    chars = "".join(_ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(20)))
    return "BR-" + "-".join(chars[i:i + 5] for i in range(0, 20, 5))


# A submission key: chosen by the client (Idempotency-Key) or minted into the form.
# It is as secret as the receipt it stands for, so it needs at least 128 bits: 22
# or more base64url characters, and not a pattern (`aaaa…`, `abab…`) — a random key
# of that length has many distinct characters.
SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_\-]{22,200}$")
_KEY_MIN_DISTINCT = 10


def key_ok(key: str) -> bool:
    return bool(SUBMISSION_KEY.match(key)) and len(set(key)) >= _KEY_MIN_DISTINCT


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


def code_for_key(secret: str, key: str) -> str:
    """The receipt code a submission key stands for. A retry of a submission whose
    answer was lost (a dropped connection, a 503 after the commit) carries the same
    key, lands on the same code, and so finds the story it already stored instead
    of storing it twice; and the member can be shown the code again. The key is
    therefore as secret as the code: the form mints 192 random bits for it."""
    digest = hmac.new(secret.encode(), b"braided-receipt\x00" + key.encode(), hashlib.sha256).digest()
    return _spell(int.from_bytes(digest[:13], "big") >> 4)  # 100 bits


def normalise(code: str) -> str | None:
    """Accept what a person might type (spaces, lower case, O for 0); None if it
    cannot be a code."""
    if not isinstance(code, str) or len(code) > 64:
        return None
    # Keep letters and digits only: spaces, dashes or dots between groups all work.
    c = "".join(ch for ch in code.upper() if ch.isascii() and ch.isalnum())
    if c.startswith("BR") and len(c) == 22:
        c = c[2:]
    c = c.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(c) != 20:
        return None
    c = "BR-" + "-".join(c[i:i + 5] for i in range(0, 20, 5))
    m = _SHAPE.match(c)
    if not m or any(ch not in _ALPHABET for ch in "".join(m.groups())):
        return None
    return c


def digest(code: str) -> bytes:
    """The stored look-up key of a normalised code."""
    return hashlib.sha256(b"braided-receipt-lookup\x00" + code.encode()).digest()


# --- Rows stored before the digest (argon2id + the first half in clear) -------------


def lookup_key(code: str) -> str:
    return code[3:14]


async def verify(stored_hash: str, code: str) -> bool:
    def _verify() -> bool:
        try:
            return _HASHER.verify(stored_hash, code)
        except (VerificationError, InvalidHashError):
            return False
    return await asyncio.to_thread(_verify)
