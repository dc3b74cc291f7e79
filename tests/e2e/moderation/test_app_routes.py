"""Authorization over the whole route table: nothing but login, /healthz,
the API description and static files answers without a session (metrics are on the
private listener), and admin routes refuse
a moderator."""

from __future__ import annotations

import uuid

import httpx
import pytest
from starlette.routing import Mount, Route

from braided.settings import Settings
from services.moderation.app import PUBLIC_PATHS, create_app
from tests.e2e.moderation.mod_helpers import api_client
from tests.stack import Stack

# /openapi.json describes the API (no data) for schemathesis and client authors.
PUBLIC = {"/login", "/api/session", "/healthz", "/openapi.json"}


def _routes() -> list[tuple[str, str, bool]]:
    """(method, path with ids filled in, admin_only) for every route but static files."""
    app = create_app(Settings.from_env({"DATABASE_URL": "postgresql://unused", "NATS_URL": "nats://unused"}))
    out = []
    for route in app.routes:
        if isinstance(route, Mount):
            assert route.path == "/static"
            continue
        assert isinstance(route, Route)
        path = route.path.replace("{id}", str(uuid.uuid4()))
        for method in sorted(route.methods - {"HEAD"}):
            out.append((method, path, getattr(route.endpoint, "admin_only", False)))
    assert len(out) > 25  # the table was really read
    return out


def test_public_paths_match_the_routes() -> None:
    paths = {p for _, p, _ in _routes() if "-" not in p}
    assert PUBLIC <= paths
    assert PUBLIC_PATHS - {"/static"} == PUBLIC


def _send(client: httpx.Client, method: str, path: str) -> httpx.Response:
    if method == "GET":
        return client.get(path)
    if method == "PUT":
        return client.put(path, json={})
    if path.startswith("/api/"):
        return client.post(path, json={"decision": "approve", "reason": "x"})
    return client.post(path, data={"csrf": "x", "decision": "approve"})


@pytest.mark.parametrize("method,path,admin_only", _routes(), ids=lambda v: str(v))
def test_anonymous_is_refused_everywhere_but_login_and_health(stack: Stack, method: str, path: str,
                                                              admin_only: bool) -> None:
    with httpx.Client(base_url=stack.url("moderation"), timeout=10) as anon:
        r = _send(anon, method, path)
    if path in PUBLIC:
        assert r.status_code in (200, 303, 400, 401, 422), (method, path, r.status_code)
        return
    if path.startswith("/api/") or path == "/events":
        assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
    else:
        assert r.status_code == 303 and r.headers["location"] == "/login", (method, path, r.status_code)


@pytest.fixture(scope="module")
def moderator(stack: Stack):
    client = api_client(stack, "moderator")
    yield client
    client.close()


@pytest.mark.parametrize("method,path", [(m, p) for m, p, admin in _routes() if admin], ids=lambda v: str(v))
def test_admin_routes_refuse_a_moderator(moderator: httpx.Client, method: str, path: str) -> None:
    r = _send(moderator, method, path)
    assert r.status_code == 403, (method, path, r.status_code)
    assert "Only admins" in r.text


def test_some_routes_are_admin_only() -> None:
    admin_paths = {p for _, p, admin in _routes() if admin}
    assert {"/admin/moderators", "/admin/wordlists", "/admin/reasons"} <= admin_paths
