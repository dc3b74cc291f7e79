"""Render once, serve many: publishing's public pages and feeds kept as bytes.

A public page changes only when an event changes the read model (a story approved,
withdrawn or unpublished; support resources updated). So the first request for a
page renders it and every later one is served the same bytes, with their ETag and a
gzip/brotli copy made once, until an event invalidates it.

Invalidation is exact and as fast as the database: the event handler, inside the
transaction that changes the read model, runs `NOTIFY braided_publishing_pages`, and
every publishing replica LISTENs on that channel. PostgreSQL delivers a notification
only after its transaction commits, to every listening session, so every replica
drops its copies the moment the change is visible — whichever replica's consumer
handled the event (replicas share its durable consumers, so only one of them sees
each event from NATS). A render that read the database before the commit and
finishes after the notification is not stored (the cache's generation moved on).
While the LISTEN connection is down the cache is bypassed and emptied: a replica
that could miss a notification serves nothing from memory.

Only a 200 that sets no cookie and may be stored (`Cache-Control` without
`no-store`/`private`) is kept; forms (CSRF cookie, `no-store`) never are.
The cache is a layer around the handlers (ASGI middleware): handlers stay as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import gzip
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import brotli
from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import i18n
from shared.qvalues import quality_list

log = logging.getLogger("braided.publishing.pagecache")

CHANNEL = "braided_publishing_pages"
ALL = "all"
RESOURCES = "resources"
LOOKUPS = Counter("braided_publishing_page_cache_total", "Public page cache lookups", ["result"])

_COMPRESSIBLE = (b"text/", b"application/json", b"application/atom+xml", b"application/xml")
_MIN_COMPRESS = 512


@dataclass
class Entry:
    body: bytes
    headers: list[tuple[bytes, bytes]]  # without content-length / etag
    etag: bytes  # the handler's strong ETag, quoted: b'"abc"'
    tags: frozenset[str]
    compressible: bool
    variants: dict[str, bytes] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(v) for v in self.variants.values()) + 512

    def encoded(self, coding: str) -> bytes:
        if coding not in self.variants:
            self.variants[coding] = gzip.compress(self.body, 6, mtime=0) if coding == "gzip" \
                else brotli.compress(self.body, quality=5)
        return self.variants[coding]


class PageCache:
    """Rendered responses by request key, bounded by bytes (least recently used
    dropped first), emptied by `invalidate`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.entries: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self.size = 0
        self.generation = 0
        self.live = False  # only while invalidations can reach us (LISTEN connected)

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0 and self.live

    def get(self, key: tuple[Any, ...]) -> Entry | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key: tuple[Any, ...], entry: Entry, generation: int) -> None:
        if not self.enabled or generation != self.generation or entry.size * 4 > self.max_bytes:
            return
        self._drop(key)
        self.entries[key] = entry
        self.size += entry.size
        while self.size > self.max_bytes and self.entries:
            self._drop(next(iter(self.entries)))

    def grew(self, entry: Entry, before: int) -> None:
        """An entry gained a compressed copy: count it."""
        self.size += entry.size - before

    def _drop(self, key: tuple[Any, ...]) -> None:
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= old.size

    def invalidate(self, tags: Iterable[str] = (ALL,)) -> None:
        tags = set(tags)
        self.generation += 1
        if ALL in tags:
            self.entries.clear()
            self.size = 0
            return
        for key in [k for k, e in self.entries.items() if e.tags & tags]:
            self._drop(key)


def _tags(path: str) -> frozenset[str] | None:
    """What a cacheable page shows (what invalidates it), or None: not cached."""
    if path == "/support":
        return frozenset({RESOURCES})
    if path in ("/", "/tags", "/feed.atom", "/api/stories"):
        return frozenset({ALL})
    parts = path.strip("/").split("/")
    if (len(parts) == 2 and parts[0] in ("stories", "tags")) or (len(parts) == 3 and parts[:2] == ["api", "stories"]):
        if parts[0] != "tags":
            try:
                uuid.UUID(parts[-1])
            except ValueError:
                return None
        return frozenset({ALL})
    return None


def _accepts(header: bytes) -> str | None:
    """br or gzip, as the client's Accept-Encoding allows (q=0 refuses)."""
    offered = dict(quality_list(header.decode("latin-1").lower()))
    for coding in ("br", "gzip"):
        if offered.get(coding, offered.get("*", 0.0)) > 0:
            return coding
    return None


def _etag_matches(inm: bytes, etag: bytes) -> bool:
    base = etag.strip(b'"')
    for tag in inm.split(b","):
        tag = tag.strip().removeprefix(b"W/")
        if tag == b"*" or tag.strip(b'"').removesuffix(b"-br").removesuffix(b"-gz") == base:
            return True
    return False


@functools.lru_cache(maxsize=512)
def _language(header: bytes | None) -> str | None:
    """The language a page is rendered in for this Accept-Language (shared/i18n.py):
    the cache keys on it, not on the header, so `en-US,en;q=0.9` and `en-GB` share
    one entry (browsers send many spellings of few languages)."""
    return i18n.from_accept_language(header.decode("latin-1")) if header else None


class PageCacheMiddleware:
    """Serves cached pages; stores what the handlers render (see the module doc)."""

    def __init__(self, app: ASGIApp, cache: PageCache) -> None:
        self.app, self.cache = app, cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cache = self.cache
        if scope["type"] != "http" or scope["method"] != "GET" or not cache.enabled:
            await self.app(scope, receive, send)
            return
        tags = _tags(scope["path"])
        if tags is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = (scope["path"], scope["query_string"], headers.get(b"host"), _language(headers.get(b"accept-language")))
        entry = cache.get(key)
        if entry is not None:
            LOOKUPS.labels("hit").inc()
            await self._serve(entry, headers, send)
            return
        LOOKUPS.labels("miss").inc()
        if b"if-none-match" in headers or b"if-modified-since" in headers:
            await self.app(scope, receive, send)  # the handler answers 304 itself
            return
        generation = cache.generation
        captured: dict[str, Any] = {"start": None, "body": []}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["start"] = message
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        entry = _storable(captured["start"], b"".join(captured["body"]), tags)
        if entry is not None:
            cache.put(key, entry, generation)

    async def _serve(self, entry: Entry, headers: dict[bytes, bytes], send: Send) -> None:
        coding = _accepts(headers.get(b"accept-encoding", b"")) if entry.compressible else None
        etag = entry.etag if coding is None else entry.etag[:-1] + (b'-br"' if coding == "br" else b'-gz"')
        out = [*entry.headers, (b"etag", etag)]
        inm = headers.get(b"if-none-match")
        if (inm is not None and _etag_matches(inm, entry.etag)) or (
                inm is None and _not_modified_since(headers.get(b"if-modified-since"), entry.headers)):
            await send({"type": "http.response.start", "status": 304, "headers": out})
            await send({"type": "http.response.body", "body": b""})
            return
        if coding is None:
            body = entry.body
        else:
            before = entry.size
            body = entry.encoded(coding)
            self.cache.grew(entry, before)
            out.append((b"content-encoding", coding.encode()))
        out.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": out})
        await send({"type": "http.response.body", "body": body})


def _storable(start: Message | None, body: bytes, tags: frozenset[str]) -> Entry | None:
    if start is None or start["status"] != 200:
        return None
    kept, etag, content_type = [], None, b""
    for name, value in start.get("headers", []):
        lname = name.lower()
        if lname == b"set-cookie" or lname == b"content-encoding":
            return None
        if lname == b"cache-control" and (b"no-store" in value or b"private" in value):
            return None
        if lname == b"etag":
            etag = value
        elif lname != b"content-length":
            kept.append((lname, value))
            if lname == b"content-type":
                content_type = value
    if etag is None or not etag.startswith(b'"'):
        return None
    compressible = len(body) >= _MIN_COMPRESS and content_type.startswith(_COMPRESSIBLE)
    return Entry(body, kept, etag, tags, compressible)


# --- Invalidation: NOTIFY from the handler's transaction, LISTEN on every replica ---------


async def notify(conn: asyncpg.Connection, scope: str = ALL) -> None:
    """Tell every replica's cache, once this transaction commits, that pages changed."""
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, scope)


Handler = Callable[..., Awaitable[None]]


def notifying(handlers: dict[str, Handler]) -> dict[str, Handler]:
    """The consumer's handlers, each also notifying the caches in its transaction.
    Support resources show only on /support; every other event may change any list
    or story page (a story's neighbours, counts), so it empties the rest too."""

    def wrap(event_type: str, handler: Handler) -> Handler:
        scope = RESOURCES if event_type == "ResourcesUpdated" else ALL

        async def handle(conn: asyncpg.Connection, event: Any, *prepared: Any) -> None:
            await handler(conn, event, *prepared)
            await notify(conn, scope)
        return handle

    return {t: wrap(t, h) for t, h in handlers.items()}


class Listener:
    """Keeps one LISTEN connection; the cache is live only while it is up."""

    def __init__(self, cache: PageCache, dsn: str, ping_seconds: float = 5.0) -> None:
        self.cache, self.dsn, self.ping_seconds = cache, dsn, ping_seconds
        self.connected = asyncio.Event()

    def _on_notify(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        self.cache.invalidate({payload or ALL})

    def _down(self) -> None:
        self.cache.live = False
        self.cache.invalidate()
        self.connected.clear()

    async def run(self) -> None:
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self.dsn, timeout=5)
                closed = asyncio.Event()
                conn.add_termination_listener(lambda _c, closed=closed: closed.set())
                await conn.add_listener(CHANNEL, self._on_notify)
                self.cache.invalidate()  # anything could have changed while we were away
                self.cache.live = True
                self.connected.set()
                while not closed.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(closed.wait(), self.ping_seconds)
                    if not closed.is_set():
                        await conn.fetchval("SELECT 1", timeout=self.ping_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # down for whatever reason: bypass the cache, retry
                log.warning("page cache listener down (%s); serving uncached", type(e).__name__)
            finally:
                self._down()
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.terminate()
            await asyncio.sleep(1)


def _not_modified_since(since: bytes | None, stored: list[tuple[bytes, bytes]]) -> bool:
    """If-Modified-Since on a cached page (RFC 9110 13.1.3: only when there is no
    If-None-Match): 304 when the page's Last-Modified is not later."""
    modified = dict(stored).get(b"last-modified")
    if since is None or modified is None:
        return False
    try:
        return email.utils.parsedate_to_datetime(modified.decode()) <= email.utils.parsedate_to_datetime(
            since.decode())
    except (TypeError, ValueError):
        return False
