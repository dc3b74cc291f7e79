"""Durable pull consumers of the one stream: each service's handler table, one consumer
per subject, each event handled once through the inbox (shared/bus.py connects and
publishes)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import asyncpg
import nats.errors
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from prometheus_client import Counter

from shared import relaywake
from shared.bus import NATS_DOWN
from shared.db import DB_DOWN
from shared.events import EVENT_TYPES, STREAM, BadEvent, Event, decode
from shared.natsauth import Identity
from shared.retry import retrying

log = logging.getLogger("braided.bus")

EVENTS_HANDLED = Counter("braided_events_handled_total", "Events consumed", ["consumer", "type", "outcome"])

# Messages per fetch. A fetch returns at once with what is there (nats-py asks with
# no_wait), so a large batch costs a quiet stream nothing, and under a burst it spreads
# each batch's fixed cost (the pull request, the inbox look-up, one commit, the relay's
# round) over more events: raising it from 8 (screening) and 20 (the rest) to 64 took
# the CPU a submission costs across every process from about 2.0 to 1.4-1.7 ms, and
# half the worker's (/tmp profiling with `make bench-http`'s POST load).
BATCH = 64

Handler = Callable[..., Awaitable[None]]  # (conn, event), and in batch mode also the prepared value
# Batch mode: given the fresh events of one fetch, yields (index, prepared value) as each is ready.
Prepare = Callable[[list[Event]], AsyncIterator[tuple[int, Any]]]


class Consumer:
    """A durable pull consumer of one subject, feeding its part of a service's handler
    table (`consumers` makes one per subject the table handles).

    Each message is handled inside one database transaction that also records the
    event id (the inbox, shared by the service's consumers: `inbox`), and acked only
    after that transaction commits. An event already in the inbox is acked without
    running the handler again. A message that fails `max_deliver` times is parked in
    `parked_messages` and acked.

    The durable is created with its name and its one filter subject, through
    `$JS.API.CONSUMER.CREATE.STORIES.<durable>.<subject>`, the only form of consumer
    creation the identity's permissions allow (shared/natsauth.py). It starts at the
    stream's first message: a new durable replaces an older consumer and the inbox
    skips what was already handled.

    Batch mode (`prepare`): the fresh events of each fetch are first prepared together,
    outside any transaction (the screen scores them in one forward pass), with
    in-progress acks meanwhile so JetStream does not hand them to another consumer;
    each is then handled as soon as its preparation is ready, its handler called as
    `handler(conn, event, prepared)`.
    """

    def __init__(self, js: JetStreamContext, pool: asyncpg.Pool, durable: str, subject: str,
                 handlers: Mapping[str, Handler], *, inbox: str | None = None, batch: int = BATCH,
                 ack_wait: float = 30, max_deliver: int = 5, prepare: Prepare | None = None) -> None:
        wrong = sorted(t for t in handlers if EVENT_TYPES[t].subject != subject)
        if wrong:
            raise ValueError(f"consumer {durable} reads {subject}; {', '.join(wrong)} arrive elsewhere")
        self.js, self.pool, self.durable, self.subject = js, pool, durable, subject
        self.inbox = inbox or durable
        self.handlers, self.batch, self.ack_wait, self.max_deliver = handlers, batch, ack_wait, max_deliver
        self.prepare = prepare
        self._sub: JetStreamContext.PullSubscription | None = None

    def config(self) -> ConsumerConfig:
        # `name` with one `filter_subject`: nats-py then sends CONSUMER.CREATE.<stream>.
        # <name>.<filter>, the request the server checks against the filter.
        return ConsumerConfig(name=self.durable, durable_name=self.durable, filter_subject=self.subject,
                              deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.EXPLICIT,
                              ack_wait=self.ack_wait, max_deliver=-1)

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        async def create() -> JetStreamContext.PullSubscription:
            # Create (or update to this configuration) every time, rather than look it up
            # first: the same request whether the durable exists or not, and replicas
            # starting together all send the same configuration.
            await self.js.add_consumer(STREAM, self.config())
            return await self.js.pull_subscribe_bind(durable=self.durable, stream=STREAM)
        return await retrying(create, errors=NATS_DOWN, what=f"consumer {self.durable}: subscribe", wait=1.0)

    async def fetch(self, n: int | None = None, wait: float = 1.0) -> list:
        if self._sub is None:
            self._sub = await self._subscribe()
        try:
            return await self._sub.fetch(n or self.batch, timeout=wait)
        except (TimeoutError, nats.errors.TimeoutError):
            return []

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except NATS_DOWN as e:
                log.warning("consumer %s: nats unavailable (%s)", self.durable, type(e).__name__)
                await asyncio.sleep(0.5)
            except (*DB_DOWN, asyncpg.PostgresError) as e:
                # Includes InternalClientError (a connection cut by a PostgreSQL
                # restart): wait and carry on rather than crash.
                log.warning("consumer %s: database unavailable (%s)", self.durable, type(e).__name__)
                await asyncio.sleep(1)
            except Exception:
                log.exception("consumer %s: unexpected error", self.durable)
                await asyncio.sleep(1)

    async def run_once(self) -> int:
        """Fetch and handle one batch; returns how many messages it held."""
        msgs = await self.fetch()
        try:
            if self.prepare is None:
                todo = [(msg, event) for msg in msgs if (event := await self._ours(msg)) is not None]
                if todo:
                    await self._apply_group(todo)
            elif msgs:
                await self._handle_batch(msgs)
        except asyncio.CancelledError:
            # Stopping (a deploy, a scale-down): what this batch has not acked goes back
            # to the stream now, for another replica, instead of after ack_wait. A message
            # whose transaction committed but whose ack was not sent comes back too, and
            # the inbox skips it.
            for msg in msgs:
                if not msg.is_acked:
                    with contextlib.suppress(Exception):
                        await msg.nak()
            raise
        return len(msgs)

    async def handle(self, msg) -> None:
        """Run one message through the inbox and its handler, then ack."""
        event = await self._ours(msg)
        if event is not None:
            await self._apply(msg, event)

    async def _ours(self, msg) -> Event | None:
        """The message's event, if it is one this consumer handles; a bad one is
        parked and one for another consumer acked (both answer None)."""
        try:
            event = decode(msg.data)
        except BadEvent as e:
            await self._park(msg, str(e))
            return None
        if msg.subject != EVENT_TYPES[event.type].subject:
            # Sent on another type's subject: whoever may publish there does not own
            # this type (shared/natsauth.py), so it is a forgery or a bug, never applied.
            await self._park(msg, f"{event.type} on {msg.subject}, not {EVENT_TYPES[event.type].subject}")
            return None
        if event.type not in self.handlers:
            await msg.ack()  # not for us
            return None
        return event

    async def _handle_batch(self, msgs: list) -> None:
        todo = [(msg, event) for msg in msgs if (event := await self._ours(msg)) is not None]
        if not todo:
            return
        # Ask the inbox first, so nothing already handled is prepared again.
        seen = {str(r["event_id"]) for r in await self.pool.fetch(
            "SELECT event_id FROM processed_events WHERE consumer = $1 AND event_id = ANY($2::uuid[])",
            self.inbox, [e.id for _, e in todo])}
        fresh = []
        for msg, event in todo:
            if event.id in seen:  # already handled, or a second copy in this very batch
                EVENTS_HANDLED.labels(self.durable, event.type, "duplicate").inc()
                await msg.ack()
            else:
                seen.add(event.id)
                fresh.append((msg, event))
        if not fresh:
            return
        assert self.prepare is not None
        keep = asyncio.create_task(_keep_alive([m for m, _ in fresh], self.ack_wait))
        ready: asyncio.Queue[tuple[Any, ...] | None] = asyncio.Queue()

        async def produce() -> None:
            try:
                async for n, prepared in self.prepare([e for _, e in fresh]):
                    ready.put_nowait((*fresh[n], prepared))
            finally:
                ready.put_nowait(None)

        producer = asyncio.create_task(produce())
        try:
            done = False
            while not done:
                # Whatever is ready by now is applied together (one commit): while a
                # commit is under way the next ones pile up, so a burst costs a few
                # commits, and a slow preparation still hands each story on at once.
                group = [await ready.get()]
                while not ready.empty():
                    group.append(ready.get_nowait())
                if group[-1] is None:
                    done = True
                    group.pop()
                if group:
                    await self._apply_group(group)  # type: ignore[arg-type]
            await producer  # its error, if it failed
        finally:
            producer.cancel()
            keep.cancel()

    async def _apply_group(self, items: list[tuple[Any, ...]]) -> None:
        """Handle several messages in one transaction (one commit for a burst), each
        through the inbox, then ack them all. If any handler fails, the transaction is
        rolled back and each is handled on its own, so only that one is retried or parked."""
        if len(items) == 1:
            await self._apply(*items[0])
            return
        try:
            # A handler may write the outbox: this process's relay wakes after the commit.
            async with relaywake.transaction(self.pool) as conn:
                new = await self._record(conn, [event.id for _, event, *_ in items])
                outcomes = []
                for msg, event, *prepared in items:
                    fresh = event.id in new
                    if fresh:
                        new.discard(event.id)  # a second copy in this very group is a duplicate
                        await self.handlers[event.type](conn, event, *prepared)
                    outcomes.append((msg, event, fresh))
        except Exception:  # the database away, or a handler failed
            for item in items:  # each then waits its own turn, or is retried or parked, as _apply does
                await self._apply(*item)
            return
        for msg, event, fresh in outcomes:
            EVENTS_HANDLED.labels(self.durable, event.type, "handled" if fresh else "duplicate").inc()
            await msg.ack()

    async def _apply(self, msg, event: Event, *prepared: Any) -> None:
        try:
            async with relaywake.transaction(self.pool) as conn:
                fresh = bool(await self._record(conn, [event.id]))
                if fresh:
                    await self.handlers[event.type](conn, event, *prepared)
            EVENTS_HANDLED.labels(self.durable, event.type, "handled" if fresh else "duplicate").inc()
        except DB_DOWN as e:
            # The database is away (restart, failover): not the message's fault, so it
            # is redelivered however long the outage lasts and never parked for it.
            log.warning("consumer %s: database unavailable (%s); will retry", self.durable, type(e).__name__)
            await msg.nak(delay=min(2 ** msg.metadata.num_delivered, 10))
            return
        except Exception as e:
            log.exception("consumer %s: handler failed for %s", self.durable, event.type)
            await self._nak_or_park(msg, repr(e))
            return
        await msg.ack()

    async def _record(self, conn: asyncpg.Connection, event_ids: list[str]) -> set[str]:
        """Into the inbox, in one statement however many: returns the ids no one had
        handled before (each once, whatever copies `event_ids` holds)."""
        return {str(r["event_id"]) for r in await conn.fetch(
            "INSERT INTO processed_events (consumer, event_id) SELECT $1, unnest($2::uuid[])"
            " ON CONFLICT DO NOTHING RETURNING event_id", self.inbox, list(dict.fromkeys(event_ids)))}

    async def _nak_or_park(self, msg, error: str) -> None:
        if msg.metadata.num_delivered >= self.max_deliver:
            await self._park(msg, error)
        else:
            await msg.nak(delay=min(2 ** msg.metadata.num_delivered, 30))

    async def _park(self, msg, error: str) -> None:
        try:
            await self.pool.execute(
                "INSERT INTO parked_messages (consumer, subject, payload, error, deliveries)"
                " VALUES ($1, $2, $3, $4, $5)",
                self.durable, msg.subject, msg.data.decode("utf-8", "replace"), error[:2000],
                msg.metadata.num_delivered)
        except (asyncpg.PostgresError, OSError):
            await msg.nak(delay=5)  # cannot park without the database; try again later
            return
        EVENTS_HANDLED.labels(self.durable, "unknown", "parked").inc()
        log.error("consumer %s: parked a message on %s: %s", self.durable, msg.subject, error[:200])
        await msg.ack()


def consumers(js: JetStreamContext, pool: asyncpg.Pool, ident: Identity, handlers: Mapping[str, Handler],
              **options: Any) -> list[Consumer]:
    """One durable consumer per subject of a service's handler table, named and permitted
    by its identity (shared/natsauth.py). A handler table that strays from the identity's
    `reads` is refused here, not found out as a permission error at run time."""
    if set(handlers) != set(ident.reads):
        raise ValueError(f"{ident.user}: handlers for {sorted(handlers)}, but the identity reads "
                         f"{sorted(ident.reads)} (shared/natsauth.py)")
    return [Consumer(js, pool, durable, subject,
                     {t: h for t, h in handlers.items() if EVENT_TYPES[t].subject == subject},
                     inbox=ident.inbox, **options)
            for durable, subject in ident.durables().items()]


async def _keep_alive(msgs: list, ack_wait: float) -> None:
    """In-progress acks while a batch is prepared: JetStream then redelivers a message
    only when the consumer holding it has died, never mid-preparation."""
    while True:
        await asyncio.sleep(ack_wait / 3)
        for m in msgs:
            with contextlib.suppress(Exception):
                await m.in_progress()
