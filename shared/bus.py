"""NATS JetStream: connection, the one stream and publishing (durable pull consumers:
shared/consumer.py)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig

from shared.config import nats_servers
from shared.events import STREAM, STREAM_SUBJECTS, Event
from shared.natsauth import inbox_prefix

log = logging.getLogger("braided.bus")

# Failures that mean "NATS is not answering right now"; nats-py 2.16 raises
# NoStreamResponseError (not NoRespondersError) when nothing answers a publish.
NATS_DOWN = (nats.errors.Error, asyncio.TimeoutError, OSError)


async def connect(url: str, name: str, *, creds: str | None = None, user: str | None = None,
                  password: str | None = None) -> NATS:
    """Connect to every server NATS_URL lists: the client tries them in turn, so a
    node that is down at start-up is skipped, and it fails over between them later."""
    async def _disconnected() -> None:
        log.warning("nats disconnected", extra={"client": name})

    async def _reconnected() -> None:
        log.info("nats reconnected", extra={"client": name})

    async def _error(e: Exception) -> None:
        log.warning("nats error: %s", e, extra={"client": name})

    auth: dict[str, str] = {}
    if creds:
        auth["user_credentials"] = creds
    if user is not None and password is not None:
        # Replies to this user's requests arrive under its own prefix, the only subjects
        # it may subscribe to (shared/natsauth.py): no identity reads another's answers.
        auth |= {"user": user, "password": password, "inbox_prefix": inbox_prefix(user)}
    return await nats.connect(
        servers=nats_servers(url),
        name=name,
        max_reconnect_attempts=-1,  # keep trying forever: the outbox holds what waits
        reconnect_time_wait=0.5,
        disconnected_cb=_disconnected,
        reconnected_cb=_reconnected,
        error_cb=_error,
        **auth,
    )


async def connect_with(settings: Any, name: str) -> NATS:
    """`connect` with NATS_URL and the process's own credentials from its settings."""
    return await connect(settings.nats_url, name, creds=settings.nats_creds, user=settings.nats_user,
                         password=settings.nats_password)


async def ensure_stream(js: JetStreamContext, replicas: int = 1, max_age_days: int = 14) -> None:
    """Create the stream if it is missing. A stream that exists with another
    configuration is updated only where the identity may (the operator's; services
    may not: one service must not reconfigure what the others rely on): otherwise a
    warning says what differs and the service goes on with the stream as it is."""
    config = StreamConfig(
        name=STREAM,
        subjects=STREAM_SUBJECTS,
        storage=StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=120,
        max_age=max_age_days * 86400,
    )
    try:
        have = (await js.stream_info(STREAM)).config
    except nats.js.errors.NotFoundError:
        try:
            await js.add_stream(config)
            return
        except nats.js.errors.BadRequestError:  # another process created it meanwhile
            have = (await js.stream_info(STREAM)).config
    differs = [k for k in ("subjects", "num_replicas", "max_age", "duplicate_window")
               if getattr(have, k) != getattr(config, k)]
    if not differs:
        return
    try:
        await js.update_stream(config)
    except (TimeoutError, nats.errors.Error) as e:
        log.warning("stream %s differs from the settings in %s and this identity cannot update it (%s); "
                    "the operator updates it (RUNBOOK.md)", STREAM, ", ".join(differs), type(e).__name__)


async def publish(js: JetStreamContext, event: Event) -> int:
    """Publish with the event id as Nats-Msg-Id; returns the message's stream
    sequence (the first copy's, if the server already had it)."""
    ack = await js.publish(event.subject, event.to_json(), stream=STREAM, headers={"Nats-Msg-Id": event.id},
                           timeout=5)
    return ack.seq


async def publish_many(js: JetStreamContext, events: list[Event], bodies: list[bytes]) -> list[int]:
    """Publish a batch without waiting for each ack before sending the next: the
    messages go out in order on one connection (so the stream keeps their order) and
    the acks are awaited together. Returns each message's stream sequence. `bodies`
    are the events' JSON as already encoded (the outbox's copy)."""
    acks = [await js.publish_async(e.subject, body, stream=STREAM, headers={"Nats-Msg-Id": e.id})
            for e, body in zip(events, bodies, strict=True)]
    try:
        return [ack.seq for ack in await asyncio.wait_for(asyncio.gather(*acks), 5)]  # as publish's timeout
    except BaseException:
        for ack in acks:  # nobody will await the rest
            ack.cancel()
        raise


async def erase(js: JetStreamContext, seq: int) -> None:
    """Erase one message from the stream (the server overwrites it, not just
    unlinks it). Already gone — expired or erased before — is fine."""
    try:
        await js.delete_msg(STREAM, seq)
    except nats.js.errors.NotFoundError:
        pass
