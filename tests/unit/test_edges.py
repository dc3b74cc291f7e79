"""The edges a stranger reaches (shared/edges.py): proxies only from TRUSTED_PROXIES,
cross-site state changes refused, JSON-only API state changes, nesting limit, HSTS."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from shared import edges
from shared.config import COMMON, ConfigError, Settings
from shared.web import exception_handlers


class _Settings(Settings):
    ROWS = COMMON


async def whoami(request: Request) -> Response:
    return JSONResponse({"client": request.client.host, "scheme": request.url.scheme})


async def parse(request: Request) -> Response:
    return JSONResponse({"ok": bool(edges.loads(await request.body()))})


def _app(env: dict[str, str]) -> Starlette:
    settings = _Settings.from_env(env)
    return Starlette(routes=[Route("/who", whoami, methods=["GET", "POST"]),
                             Route("/api/parse", parse, methods=["POST"])],
                     middleware=edges.edge_middleware(settings, "https://share.example"),
                     exception_handlers=exception_handlers())


def _client(env: dict[str, str], peer: str) -> TestClient:
    return TestClient(_app(env), client=(peer, 40000), base_url="http://share.example")


def test_forwarded_headers_count_only_from_trusted_proxies() -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.9, 10.0.0.5", "X-Forwarded-Proto": "https"}
    with _client({"TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1"}, "10.1.2.3") as c:
        r = c.get("/who", headers=forwarded)
        # The first address that is not a trusted proxy, counting from the right.
        assert r.json() == {"client": "203.0.113.9", "scheme": "https"}
        assert r.headers["strict-transport-security"].startswith("max-age=")
    with _client({"TRUSTED_PROXIES": "10.0.0.0/8"}, "198.51.100.7") as c:  # a stranger sending the headers
        r = c.get("/who", headers=forwarded)
        assert r.json() == {"client": "198.51.100.7", "scheme": "http"}
        assert "strict-transport-security" not in r.headers
    with _client({}, "127.0.0.1") as c:  # unset: nobody is trusted, not even loopback
        assert c.get("/who", headers=forwarded).json() == {"client": "127.0.0.1", "scheme": "http"}


def test_a_network_written_with_host_bits_still_trusts_the_whole_network() -> None:
    # uvicorn parses networks strictly: "10.1.2.3/8" given as it is would be taken
    # for a host name, and no proxy would be believed.
    with _client({"TRUSTED_PROXIES": "10.1.2.3/8"}, "10.200.0.1") as c:
        assert c.get("/who", headers={"X-Forwarded-For": "203.0.113.9"}).json()["client"] == "203.0.113.9"


@pytest.mark.parametrize("raw", ["10.0.0.0/33", "proxy.internal", "10.0.0.1, nonsense"])
def test_trusted_proxies_must_be_addresses(raw: str) -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        _Settings.from_env({"TRUSTED_PROXIES": raw})


def test_cross_site_state_changes_are_refused() -> None:
    with _client({}, "198.51.100.7") as c:
        assert c.post("/who", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
        assert c.post("/who", headers={"Origin": "https://evil.example"}).status_code == 403
        assert c.post("/who", headers={"Origin": "null"}).status_code == 403
        assert c.post("/who", headers={"Origin": "https://share.example", "Sec-Fetch-Site": "cross-site"}
                      ).status_code == 403
        assert c.post("/api/parse", json={"a": 1}, headers={"Origin": "https://evil.example"}).status_code == 403
        # This site (as configured, or as the browser addressed it), and scripts with neither header.
        # Chromium's own form posts under Referrer-Policy: no-referrer carry Origin: null.
        for headers in ({"Origin": "https://share.example"}, {"Origin": "http://share.example"},
                        {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {},
                        {"Origin": "null", "Sec-Fetch-Site": "same-origin"}):
            assert c.post("/who", headers=headers).status_code == 200, headers
        assert c.get("/who", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200  # reading is fine


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "text/plain; application/json",
                                          "application/jsonx", ""])
def test_api_state_changes_want_json(content_type: str) -> None:
    with _client({}, "198.51.100.7") as c:
        r = c.post("/api/parse", content=b'{"a": 1}', headers={"Content-Type": content_type})
        assert r.status_code == 415 and "application/json" in r.json()["errors"]["request"]
        assert c.post("/api/parse", content=b'{"a": 1}',
                      headers={"Content-Type": "application/json; charset=utf-8"}).status_code == 200


def test_deep_nesting_is_a_400_not_a_recursion_error() -> None:
    assert edges.depth('{"a": [[["]]]]]"]]]}') == 4  # brackets inside strings do not count
    assert edges.loads("[" * 32 + "]" * 32) is not None
    with pytest.raises(edges.TooDeep):
        edges.loads("[" * 33 + "]" * 33)
    with _client({}, "198.51.100.7") as c:
        r = c.post("/api/parse", content=b"[" * 100000, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and "32" in r.json()["errors"]["request"]
