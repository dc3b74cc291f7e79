"""The yardstick for `make bench-http`: a bare Starlette app doing Braided's public I/O
on its own PostgreSQL and NATS, with nothing else (no templates engine, no
middleware, no cache). Same tables and indexes as publishing's read model (its
migrations are applied as they are), same queries as services/publishing/feed.py;
a POST inserts a story and an outbox row in one transaction and wakes the relay in
its process, which publishes the event to JetStream, as submission does.

    BARE_DSN=postgresql://... BARE_NATS=nats://... uvicorn bench.bare_app:app \
        --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import nats
from nats.js.api import StreamConfig
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SCHEMA = "bare"
MIGRATIONS = Path(__file__).resolve().parent.parent / "services" / "publishing" / "migrations"
COLUMNS = "story_id, seq, title, body, pen_name, tags, content_warnings, published_on"
SEARCH_TEXT = "(title || ' ' || coalesce(pen_name, '') || ' ' || body)"
OUTBOX = """
CREATE TABLE IF NOT EXISTS submitted (story_id uuid PRIMARY KEY, title text NOT NULL, body text NOT NULL,
    tags text[] NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS outbox (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, subject text NOT NULL,
    payload jsonb NOT NULL, sent boolean NOT NULL DEFAULT false);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE NOT sent;
"""


async def setup(dsn: str) -> None:
    """The publishing read model's tables (its own migrations) and an outbox, in schema `bare`."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}; SET search_path TO {SCHEMA}")
        if not await conn.fetchval("SELECT to_regclass('stories') IS NOT NULL"):
            for f in sorted(MIGRATIONS.glob("*.sql")):
                await conn.execute(f.read_text())
        await conn.execute(OUTBOX)
    finally:
        await conn.close()


def _page(stories: list[asyncpg.Record]) -> str:
    items = "".join(f"<article><h2><a href=\"/stories/{r['story_id']}\">{html.escape(r['title'])}</a></h2>"
                    f"<p>{html.escape(r['body'][:400])}</p><p>{html.escape(', '.join(r['tags']))}</p></article>"
                    for r in stories)
    return f"<!doctype html><html lang=\"en\"><title>Stories</title><main>{items}</main></html>"


def _json_story(r: asyncpg.Record) -> dict:
    return {"id": str(r["story_id"]), "title": r["title"], "body": r["body"], "pen_name": r["pen_name"],
            "tags": list(r["tags"]), "content_warnings": list(r["content_warnings"]),
            "published_on": r["published_on"].isoformat()}


async def _list(request: Request, tag: str | None = None, q: str | None = None, limit: int = 20) -> list:
    where, args = ["true"], []
    if tag:
        args.append(tag)
        where.append(f"EXISTS (SELECT 1 FROM unnest(tags) t WHERE lower(t) = lower(${len(args)}))")
    if q:
        args.append(q)
        fts = f"search_en @@ websearch_to_tsquery('english', ${len(args)})"
        args.append(f"%{q}%")
        where.append(f"({fts} OR {SEARCH_TEXT} ILIKE ${len(args)})")
    args.append(limit + 1)
    rows = await request.app.state.pool.fetch(
        f"SELECT {COLUMNS} FROM stories WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ${len(args)}", *args)
    return rows[:limit]


async def feed(request: Request) -> Response:
    q = request.query_params.get("q")
    return Response(_page(await _list(request, q=q)), media_type="text/html; charset=utf-8")


async def tag_page(request: Request) -> Response:
    return Response(_page(await _list(request, tag=request.path_params["tag"])), media_type="text/html; charset=utf-8")


async def story_page(request: Request) -> Response:
    row = await request.app.state.pool.fetchrow(f"SELECT {COLUMNS} FROM stories WHERE story_id = $1",
                                                uuid.UUID(request.path_params["id"]))
    if row is None:
        return Response("gone", status_code=404)
    return Response(_page([row]), media_type="text/html; charset=utf-8")


async def api_stories(request: Request) -> Response:
    rows = await _list(request, request.query_params.get("tag"), request.query_params.get("q"))
    return JSONResponse({"items": [_json_story(r) for r in rows], "next": None})


async def atom(request: Request) -> Response:
    rows = await _list(request, limit=50)
    entries = "".join(f"<entry><id>urn:uuid:{r['story_id']}</id><title>{html.escape(r['title'])}</title>"
                      f"<content type=\"text\">{html.escape(r['body'])}</content></entry>" for r in rows)
    return Response(f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">{entries}'
                    "</feed>", media_type="application/atom+xml; charset=utf-8")


async def submit(request: Request) -> Response:
    data = json.loads(await request.body())
    if not isinstance(data, dict) or not isinstance(data.get("title"), str) or not isinstance(data.get("body"), str):
        return JSONResponse({"errors": {"body": "title and body"}}, status_code=422)
    story_id = uuid.uuid4()
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        await conn.execute("INSERT INTO submitted (story_id, title, body, tags) VALUES ($1, $2, $3, $4)",
                           story_id, data["title"], data["body"], data.get("tags") or [])
        await conn.execute("INSERT INTO outbox (subject, payload) VALUES ('bare.submitted', $1)",
                           json.dumps({"story_id": str(story_id), "title": data["title"], "body": data["body"]}))
    request.app.state.wake.set()  # committed: the relay in this process sends it (as Braided's does)
    return JSONResponse({"receipt": os.urandom(16).hex(), "status": "received"}, status_code=202)


async def _relay(pool: asyncpg.Pool, js, wake: asyncio.Event) -> None:
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), 0.2)
        wake.clear()
        while True:
            async with pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch("SELECT id, subject, payload FROM outbox WHERE NOT sent ORDER BY id"
                                        " LIMIT 100 FOR UPDATE SKIP LOCKED")
                for r in rows:
                    await js.publish(r["subject"], r["payload"].encode(), headers={"Nats-Msg-Id": str(r["id"])})
                if rows:
                    await conn.execute("UPDATE outbox SET sent = true WHERE id = ANY($1)", [r["id"] for r in rows])
            if len(rows) < 100:
                break


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    dsn = os.environ["BARE_DSN"]
    await setup(dsn)
    app.state.pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10,
                                               server_settings={"search_path": SCHEMA})
    nc = await nats.connect(os.environ["BARE_NATS"])
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="BARE", subjects=["bare.>"], duplicate_window=120))
    app.state.wake = wake = asyncio.Event()
    relay = asyncio.create_task(_relay(app.state.pool, js, wake))
    try:
        yield
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await relay
        await nc.close()
        await app.state.pool.close()


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[
    Route("/", feed), Route("/tags/{tag}", tag_page), Route("/stories/{id}", story_page),
    Route("/api/stories", api_stories), Route("/api/stories", submit, methods=["POST"]),
    Route("/feed.atom", atom), Route("/healthz", healthz),
], lifespan=lifespan)
