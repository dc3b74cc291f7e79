"""The live keys of a NATS KV bucket, read from its stream's per-subject state.

nats-py's `KeyValue.keys()` lists keys through a watcher that can signal "no more"
before the messages already on their way have been counted (nats-io/nats.py#842,
still so in 2.16.0): it then raises NoKeysError, or returns a partial list, for a
bucket that holds keys. The stream's own subject counts have no such race."""

from __future__ import annotations

import nats.js.errors
from nats.js import JetStreamContext


async def kv_keys(js: JetStreamContext, bucket: str) -> list[str]:
    """The keys of `bucket` that hold a value now (deleted or purged ones left out)."""
    prefix = f"$KV.{bucket}."
    info = await js.stream_info(f"KV_{bucket}", subjects_filter=f"{prefix}>")
    kv = await js.key_value(bucket)
    keys = []
    for subject in info.state.subjects or {}:
        key = subject[len(prefix):]
        try:
            await kv.get(key)
        except nats.js.errors.KeyNotFoundError:  # KeyDeletedError too: a delete or purge marker
            continue
        keys.append(key)
    return keys
