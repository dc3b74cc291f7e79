"""The web pieces every service shares, on a small Starlette app: security
headers, the body limit, the 503 while the database is away, the 400 for input
PostgreSQL cannot hold, the CSRF check, and which static files each service serves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from shared.web import CSRF_COOKIE, BodyLimit, SecurityHeaders, csrf_ok, exception_handlers, static_files

ROOT = Path(__file__).resolve().parents[2]


async def echo(request: Request) -> Response:
    return PlainTextResponse(str(len(await request.body())))


async def db_down(request: Request) -> Response:
    raise ConnectionRefusedError("PostgreSQL is restarting")


async def bad_input(request: Request) -> Response:
    raise asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence")


async def check_csrf(request: Request) -> Response:
    form = await request.form()
    return PlainTextResponse("ok" if csrf_ok(request, form.get("csrf")) else "refused")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = Starlette(routes=[Route("/echo", echo, methods=["POST"]), Route("/api/down", db_down),
                            Route("/down", db_down), Route("/api/bad", bad_input),
                            Route("/csrf", check_csrf, methods=["POST"])],
                    middleware=[Middleware(SecurityHeaders), Middleware(BodyLimit, max_bytes=1000)],
                    exception_handlers=exception_handlers())
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for r in (client.post("/echo", content=b"x"), client.get("/nowhere"), client.get("/api/down")):
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert r.headers["referrer-policy"] == "no-referrer" and r.headers["x-frame-options"] == "DENY"


def test_bodies_over_the_limit_get_413_whether_announced_or_streamed(client: TestClient) -> None:
    assert client.post("/echo", content=b"x" * 1000).text == "1000"
    assert client.post("/echo", content=b"x" * 1001).status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"x" * 300

    r = client.post("/echo", content=chunks())  # no Content-Length: counted as it arrives
    assert r.status_code == 413 and "larger than" in r.json()["errors"]["body"]


def test_a_database_outage_is_a_503_with_retry_after_not_a_500(client: TestClient) -> None:
    api, page = client.get("/api/down"), client.get("/down")
    assert api.status_code == page.status_code == 503
    assert api.headers["retry-after"] == "30" and "Nothing you sent was stored" in api.json()["error"]
    assert "briefly unavailable" in page.text


def test_input_postgresql_cannot_hold_is_a_400(client: TestClient) -> None:
    r = client.get("/api/bad")
    assert r.status_code == 400 and "cannot be used" in r.json()["errors"]["request"]


def test_csrf_needs_the_cookie_and_the_same_token_in_the_form(client: TestClient) -> None:
    token = "t" * 43
    assert client.post("/csrf", data={"csrf": token}).text == "refused"
    client.cookies.set(CSRF_COOKIE, token)
    try:
        assert client.post("/csrf", data={"csrf": token}).text == "ok"
        assert client.post("/csrf", data={"csrf": "u" * 43}).text == "refused"
    finally:
        client.cookies.clear()


def _static(service: str) -> TestClient:
    folder = ROOT / "services" / service
    return TestClient(Starlette(routes=[Mount("/static", static_files(folder))]))


@pytest.mark.parametrize("service", ["submission", "publishing"])
def test_public_services_serve_the_shared_files_but_not_the_moderators(service: str) -> None:
    client = _static(service)
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/site.js").status_code == 200
    assert client.get("/static/mod-queue.js").status_code == 404
    assert client.get("/static/mod.css").status_code == 404


def test_moderation_serves_its_own_files_and_the_shared_ones() -> None:
    client = _static("moderation")
    assert client.get("/static/mod-queue.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200
