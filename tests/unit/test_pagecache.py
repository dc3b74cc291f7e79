"""The page cache's rules, without a server: what is stored, what a late render may
not store, what an invalidation drops, which encoding a client gets."""

from __future__ import annotations

from services.publishing.pagecache import ALL, RESOURCES, Entry, PageCache, _accepts, _etag_matches, _storable, _tags


def _entry(body: bytes = b"x" * 100, tags: frozenset[str] = frozenset({ALL})) -> Entry:
    return Entry(body, [(b"content-type", b"text/html")], b'"abc"', tags, False)


def _live(max_bytes: int = 1 << 20) -> PageCache:
    cache = PageCache(max_bytes)
    cache.live = True
    return cache


def test_a_render_older_than_an_invalidation_is_not_stored() -> None:
    cache = _live()
    generation = cache.generation
    cache.invalidate()  # an event committed while the page was being rendered
    cache.put(("/",), _entry(), generation)
    assert cache.get(("/",)) is None
    cache.put(("/",), _entry(), cache.generation)
    assert cache.get(("/",)) is not None


def test_nothing_is_stored_or_kept_while_invalidations_cannot_arrive() -> None:
    cache = PageCache(1 << 20)  # listener not connected yet
    cache.put(("/",), _entry(), cache.generation)
    assert cache.get(("/",)) is None and not cache.enabled
    assert not PageCache(0).enabled


def test_resources_invalidation_drops_only_the_support_page() -> None:
    cache = _live()
    cache.put(("/",), _entry(), cache.generation)
    cache.put(("/support",), _entry(tags=frozenset({RESOURCES})), cache.generation)
    cache.invalidate({RESOURCES})
    assert cache.get(("/support",)) is None and cache.get(("/",)) is not None
    cache.invalidate({ALL})
    assert cache.get(("/",)) is None and cache.size == 0


def test_bounded_by_bytes_least_recently_used_first() -> None:
    cache = _live(max_bytes=3000)
    for i in range(5):
        cache.put((f"/{i}",), _entry(b"x" * 200), cache.generation)
        cache.get(("/0",))  # keep the first one in use
    assert cache.size <= 3000
    assert cache.get(("/0",)) is not None and cache.get(("/1",)) is None


def test_only_shareable_200s_are_stored() -> None:
    ok = {"status": 200, "headers": [(b"etag", b'"e"'), (b"content-type", b"text/html; charset=utf-8"),
                                     (b"cache-control", b"no-cache"), (b"content-length", b"3")]}
    assert _storable(ok, b"abc", frozenset({ALL})) is not None
    assert _storable(ok | {"status": 404}, b"abc", frozenset({ALL})) is None
    assert _storable(ok | {"headers": ok["headers"] + [(b"set-cookie", b"a=b")]}, b"abc", frozenset()) is None
    assert _storable(ok | {"headers": [(b"etag", b'"e"'), (b"cache-control", b"no-store")]}, b"", frozenset()) is None
    assert _storable(ok | {"headers": [(b"content-type", b"text/html")]}, b"abc", frozenset()) is None  # no ETag


def test_which_paths_are_cached() -> None:
    assert _tags("/") == _tags("/feed.atom") == _tags("/api/stories") == _tags("/tags/Hakka") == frozenset({ALL})
    assert _tags("/stories/0b7c2a4e-1d1b-4b8e-9a59-6a0c1f2f7e10") == frozenset({ALL})
    assert _tags("/support") == frozenset({RESOURCES})
    for path in ("/stories/not-a-uuid", "/stories/0b7c2a4e-1d1b-4b8e-9a59-6a0c1f2f7e10/report", "/healthz",
                 "/metrics", "/static/site.css", "/openapi.json"):
        assert _tags(path) is None, path


def test_encoding_negotiation_and_etags() -> None:
    assert _accepts(b"gzip, deflate, br") == "br"
    assert _accepts(b"gzip;q=1.0, br;q=0") == "gzip"
    assert _accepts(b"identity") is None and _accepts(b"") is None
    assert _accepts(b"*") == "br"
    assert _etag_matches(b'"abc-br"', b'"abc"') and _etag_matches(b'W/"abc", "zzz"', b'"abc"')
    assert _etag_matches(b"*", b'"abc"') and not _etag_matches(b'"abd"', b'"abc"')


def test_pages_are_keyed_by_the_language_they_are_rendered_in_not_the_header() -> None:
    import asyncio

    from services.publishing.pagecache import PageCacheMiddleware

    renders: list[str] = []

    async def app(scope: dict, receive: object, send: object) -> None:
        accept = dict(scope["headers"]).get(b"accept-language", b"").decode()
        renders.append(accept)
        await send({"type": "http.response.start", "status": 200,  # type: ignore[operator]
                    "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"vary", b"Accept-Language"),
                                (b"etag", f'"{len(renders)}"'.encode())]})
        await send({"type": "http.response.body", "body": f"page for {accept}".encode()})  # type: ignore[operator]

    middleware = PageCacheMiddleware(app, _live())  # type: ignore[arg-type]

    async def get(accept: str) -> bytes:
        sent: list[dict] = []

        async def send(message: dict) -> None:
            sent.append(message)

        async def receive() -> dict:
            return {"type": "http.request"}

        scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"",
                 "headers": [(b"host", b"braided.test"), (b"accept-language", accept.encode())]}
        await middleware(scope, receive, send)  # type: ignore[arg-type]
        return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")

    async def run() -> None:
        await get("en-US,en;q=0.9")
        assert await get("en-GB,en;q=0.8") == b"page for en-US,en;q=0.9"  # English: one entry
        await get("ja-JP,ja;q=0.9")
        assert await get("ja") == b"page for ja-JP,ja;q=0.9"  # Japanese: its own entry
        assert await get("ko-KR") == b"page for ko-KR"

    asyncio.run(run())
    assert renders == ["en-US,en;q=0.9", "ja-JP,ja;q=0.9", "ko-KR"]
