"""Publishing's page cache with two replicas on one PostgreSQL and NATS: pages are
served from memory, and a withdrawn story leaves every replica's feed, tag page,
search, Atom and story page as soon as it leaves the database."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import brotli
import httpx
import pytest

from shared.infra import free_port
from tests.e2e.publishing.flow import publish, unique
from tests.hardening import ScratchStack
from tests.stack import REPO, Stack, db_fetch, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, list[str]]]:
    """A stack (its publishing is replica 1) and a second publishing replica."""
    scratch = ScratchStack(tmp_path_factory.mktemp("pagecache"))
    second = None
    try:
        stack = scratch.start()
        port = free_port()
        second = subprocess.Popen([sys.executable, "-m", "braided", "serve", "publishing", "--port", str(port)],
                                  env=stack.env_as("publishing"), cwd=REPO, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        base2 = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert second.poll() is None, "the second replica exited"
            try:
                return httpx.get(base2 + "/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False
        wait_until(up, 60, 0.2, "second publishing replica healthy")
        yield stack, [stack.url("publishing", "").rstrip("/"), base2]
    finally:
        if second is not None:
            second.terminate()
            try:
                second.wait(20)
            except subprocess.TimeoutExpired:
                second.kill()
                second.wait()
        scratch.stop()


@pytest.fixture(scope="module")
def mod(replicas: tuple[Stack, list[str]]) -> Iterator[httpx.Client]:
    stack, _ = replicas
    name, password = f"admin-{uuid.uuid4().hex[:8]}", "correct horse battery staple"
    assert stack.add_moderator(name, password, "admin").returncode == 0
    client = stack.moderator(name, password)
    yield client
    client.close()


def _pages(tag: str, word: str, story_id: str) -> list[str]:
    return ["/", f"/tags/{tag}", f"/?q={word}", "/feed.atom", f"/feed.atom?tag={tag}", f"/api/stories?q={word}",
            f"/api/stories?tag={tag}", f"/stories/{story_id}", f"/api/stories/{story_id}"]


def _insert_quietly(dsn: str, title: str, tag: str, word: str) -> None:
    """A row written behind the events' back (no NOTIFY): only a page rendered after
    the next invalidation can show it."""
    db_fetch(dsn, "INSERT INTO publishing.stories (story_id, title, body, tags, published_on)"
                  " VALUES ($1, $2, $3, $4, current_date) RETURNING story_id",
             uuid.uuid4(), title, f"A quiet story with {word} in it, long enough.", [tag])


def test_withdrawn_story_leaves_both_replicas_caches(replicas: tuple[Stack, list[str]], mod: httpx.Client) -> None:
    stack, bases = replicas
    tag, word = unique("Peranakan-"), unique("kueh")
    title = unique("Cached story ")
    story_id, receipt = publish(stack, mod, title=title, tags=[tag],
                                body=f"My grandmother's {word} recipe, and the day I brought her home.")
    pages = _pages(tag, word, story_id)
    for base in bases:  # render once on each replica (the first stack already saw one via published())
        for path in pages:
            r = httpx.get(base + path, timeout=10)
            assert r.status_code == 200 and title in r.text, (base, path, r.status_code)

    # Served from memory: a row the events never announced stays invisible.
    quiet = unique("Quiet story ")
    _insert_quietly(stack.dsn, quiet, tag, word)
    for base in bases:
        for path in pages[:7]:
            assert quiet not in httpx.get(base + path, timeout=10).text, (base, path)

    r = httpx.post(stack.url("submission", "/api/receipts/withdraw"), json={"receipt": receipt}, timeout=30)
    assert r.status_code in (200, 202), r.text
    wait_until(lambda: not db_fetch(stack.dsn, "SELECT 1 FROM publishing.stories WHERE story_id = $1",
                                    uuid.UUID(story_id)), 30, 0.02, "the story gone from the database")
    gone_at = time.monotonic()

    stale: list[str] = []
    began = [0.0]

    def clean() -> bool:
        stale.clear()
        began[0] = time.monotonic()
        for base in bases:
            for path in pages[:7]:
                text = httpx.get(base + path, timeout=10).text
                if title in text or quiet not in text:  # the quiet row shows once the cache emptied
                    stale.append(f"{base}{path} at {time.monotonic() - gone_at:.3f}s")
            for path in pages[7:]:
                if httpx.get(base + path, timeout=10).status_code != 410:
                    stale.append(f"{base}{path} at {time.monotonic() - gone_at:.3f}s")
        return not stale
    wait_until(clean, 5, 0.02, "the withdrawn story gone from both replicas' pages")
    lag = began[0] - gone_at  # when the first pass that found every page clean began
    assert lag < 0.5, f"pages still showed the withdrawn story {lag:.3f}s after the database"


def test_cached_page_compressed_and_revalidated(replicas: tuple[Stack, list[str]]) -> None:
    _, bases = replicas
    for base in bases:
        plain = httpx.get(base + "/", headers={"Accept-Encoding": "identity"}, timeout=10)
        again = httpx.get(base + "/", headers={"Accept-Encoding": "identity"}, timeout=10)
        assert again.content == plain.content and again.headers["etag"] == plain.headers["etag"]
        for coding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
            with httpx.Client() as c:  # read the raw bytes: httpx would decode them
                r = c.send(c.build_request("GET", base + "/", headers={"Accept-Encoding": coding}), stream=True)
                raw = b"".join(r.iter_raw())
            assert r.headers.get("content-encoding") == coding
            assert decode(raw) == plain.content
            assert r.headers["etag"] != plain.headers["etag"]  # a strong ETag per representation
            assert "set-cookie" not in r.headers and r.headers["content-security-policy"]
            r304 = httpx.get(base + "/", headers={"If-None-Match": r.headers["etag"], "Accept-Encoding": coding},
                             timeout=10)
            assert r304.status_code == 304 and r304.content == b""
        assert httpx.get(base + "/", headers={"If-None-Match": '"other"'}, timeout=10).status_code == 200


def test_forms_are_never_cached(replicas: tuple[Stack, list[str]]) -> None:
    """The report form, cached or not, never hands a reader a cookie (public pages set
    none since the trust boundary: the form is protected by Sec-Fetch-Site/Origin)."""
    _, bases = replicas
    rows = db_fetch(replicas[0].dsn, "SELECT story_id FROM publishing.stories LIMIT 1")
    assert rows, "no story to report"
    url = f"{bases[0]}/stories/{rows[0]['story_id']}/report"
    first, second = httpx.get(url, timeout=10), httpx.get(url, timeout=10)
    assert first.status_code == second.status_code == 200
    assert "set-cookie" not in first.headers and "set-cookie" not in second.headers

