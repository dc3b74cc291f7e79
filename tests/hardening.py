"""Helpers for the fault, load, anonymity and security suites.

`ScratchStack` is a Braided stack on its own PostgreSQL and NATS that the test owns,
so a test can SIGKILL, stop and restart them without disturbing the session stack.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import nats
import psutil

from shared.infra import EmbeddedNats, EmbeddedPostgres
from tests.stack import Stack, db_fetch, wait_until

SCHEMAS = ("submission", "moderation", "publishing")


class ScratchStack:
    """PostgreSQL + NATS + `braided run`, all owned by one test module."""

    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.pg = EmbeddedPostgres(root)
        self.nats = EmbeddedNats(root)
        self.dsn = ""
        self.env = env or {}
        self.stack: Stack | None = None

    def start(self) -> Stack:
        try:
            self.dsn = self.pg.start()
            self.nats.start()
            self.stack = Stack(self.root / "stack", {
                "DATABASE_URL": self.dsn, "NATS_URL": self.nats.url, "NATS_SECRETS_DIR": str(self.nats.secrets_dir),
                # The fault and load suites are about delivery, not about the model: the
                # worker files every story `unscreened` straight away.
                "SCREEN_ENABLED": "false",
            } | self.env).start()
        except BaseException:
            self.stop()  # a fixture that never yields is never torn down
            raise
        return self.stack

    def stop(self) -> None:
        try:
            if self.stack is not None:
                self.stack.stop()
        finally:
            try:
                self.nats.stop()
            finally:
                self.pg.stop()

    # --- faults ------------------------------------------------------------------------

    def pg_ctl(self, *args: str) -> str:
        import pgserver

        server = self.pg._server
        return pgserver.pg_ctl(["-w", *args], pgdata=self.pg.pgdata, user=getattr(server, "system_user", None))

    def pg_stop(self) -> None:
        # Fast shutdown: open connections are cut, as in a crash or failover.
        self.pg_ctl("-m", "fast", "stop")

    def pg_start(self) -> None:
        # `restart` on a stopped server starts it with the options it last ran with
        # (postmaster.opts), i.e. the same unix-socket directory.
        self.pg_ctl("restart")

    def children(self, match: str) -> list[psutil.Process]:
        """Processes of the stack whose command line contains `match` (e.g. "worker")."""
        assert self.stack is not None and self.stack.proc is not None
        parent = psutil.Process(self.stack.proc.pid)
        return [p for p in parent.children(recursive=True) if match in " ".join(p.cmdline())]


def submit_many(stack: Stack, titles: list[str], concurrency: int = 10,
                retry_503: bool = True, timeout: float = 60) -> dict[str, str]:
    """Submit one story per title, `concurrency` at a time. A 503 (dependency down)
    is retried, as a client would; returns title → receipt for every accepted story."""
    url = stack.url("submission", "/api/stories")

    def one(title: str) -> tuple[str, str]:
        # One key per story, kept across retries: a 503 or a dropped connection can
        # come after the story was committed, and the retry must not store it twice.
        key = uuid.uuid4().hex + uuid.uuid4().hex
        with httpx.Client(timeout=30) as client:
            for _ in range(int(timeout * 2)):
                try:
                    r = client.post(url, json={"title": title, "body": f"A long enough story body for {title}."},
                                    headers={"Idempotency-Key": key})
                except httpx.TransportError:
                    r = None
                if r is not None and r.status_code == 202:
                    return title, r.json()["receipt"]
                if r is not None and (r.status_code != 503 or not retry_503):
                    raise AssertionError(f"{title}: {r.status_code} {r.text}")
                time.sleep(0.5)
            raise AssertionError(f"{title}: never accepted")

    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        return dict(pool.map(one, titles))


def queue_counts(dsn: str, titles: list[str]) -> dict[str, int]:
    """For the given titles: how many rows in moderation.queue_items and
    publishing.stories, and how many titles appear more than once in either."""
    q = db_fetch(dsn, "SELECT title, count(*) AS n FROM moderation.queue_items WHERE title = ANY($1)"
                      " GROUP BY title", titles)
    p = db_fetch(dsn, "SELECT title, count(*) AS n FROM publishing.stories WHERE title = ANY($1)"
                      " GROUP BY title", titles)
    return {"queued": sum(r["n"] for r in q), "published": sum(r["n"] for r in p),
            "duplicates": sum(r["n"] - 1 for r in q + p if r["n"] > 1)}


def wait_queued(dsn: str, titles: list[str], timeout: float = 90) -> dict[str, int]:
    wait_until(lambda: queue_counts(dsn, titles)["queued"] >= len(titles), timeout, 0.5,
               f"{len(titles)} stories in the queue")
    return queue_counts(dsn, titles)


def approve_all(stack: Stack, mod: httpx.Client, dsn: str, titles: list[str], retry_503: bool = True) -> None:
    rows = db_fetch(dsn, "SELECT story_id FROM moderation.queue_items WHERE title = ANY($1) AND state = 'pending'",
                    titles)
    for row in rows:
        for _ in range(120):
            try:
                r = mod.post(f"/api/queue/{row['story_id']}/decision", json={"decision": "approve"})
            except httpx.TransportError:
                r = None
            if r is not None and r.status_code in (200, 409):
                break
            assert r is None or (r.status_code == 503 and retry_503), r.text
            time.sleep(0.5)


def wait_published(dsn: str, titles: list[str], timeout: float = 90) -> dict[str, int]:
    wait_until(lambda: queue_counts(dsn, titles)["published"] >= len(titles), timeout, 0.5,
               f"{len(titles)} stories published")
    return queue_counts(dsn, titles)


def titles(prefix: str, n: int) -> list[str]:
    run = uuid.uuid4().hex[:6]
    return [f"{prefix} {run} #{i:04d}" for i in range(n)]


# --- scanning everything that is stored -------------------------------------------------


async def _table_rows(dsn: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE' ORDER BY 1, 2", list(SCHEMAS))
        out = []
        for t in tables:
            name = f'"{t["table_schema"]}"."{t["table_name"]}"'
            for r in await conn.fetch(f"SELECT t::text AS row FROM {name} t"):
                out.append((name, r["row"]))
            out.append((name, ""))  # so empty tables are counted too
        return out
    finally:
        await conn.close()


def table_rows(dsn: str) -> list[tuple[str, str]]:
    """(table, row as text) for every row of every table in every service schema."""
    return asyncio.run(_table_rows(dsn))


async def _stream_messages(nats_url: str) -> list[tuple[str, str, str]]:
    nc = await nats.connect(nats_url)
    out = []
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            name = info.config.name
            first, last = info.state.first_seq, info.state.last_seq
            for seq in range(first, last + 1) if info.state.messages else []:
                try:
                    msg = await js.get_msg(name, seq)
                except nats.js.errors.NotFoundError:
                    continue  # deleted or expired
                headers = json.dumps(msg.headers or {})
                out.append((name, msg.subject, (msg.data or b"").decode("utf-8", "replace") + "\n" + headers))
            out.append((name, "", ""))
    finally:
        await nc.close()
    return out


def stream_messages(nats_url: str) -> list[tuple[str, str, str]]:
    """(stream, subject, payload + headers) of every stored message of every
    JetStream stream, KV buckets (streams named KV_*) included."""
    return asyncio.run(_stream_messages(nats_url))


def stream_storage(nats_url: str) -> dict[str, str]:
    async def go() -> dict[str, str]:
        nc = await nats.connect(nats_url)
        try:
            return {i.config.name: str(getattr(i.config.storage, "value", i.config.storage))
                    for i in await nc.jetstream().streams_info()}
        finally:
            await nc.close()
    return asyncio.run(go())


def scan(haystacks: list[str], needles: list[str]) -> list[tuple[str, str]]:
    """Every (needle, excerpt) where a needle occurs, case-insensitively."""
    hits = []
    lowered = [n.lower() for n in needles]
    for text in haystacks:
        low = text.lower()
        for needle, n in zip(needles, lowered, strict=True):
            if n in low:
                at = low.index(n)
                hits.append((needle, text[max(0, at - 80):at + 80]))
    return hits


