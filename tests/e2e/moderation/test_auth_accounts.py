"""Accounts: session rotation, throttling, admin account changes in the UI and
the CLI, and that disabling or resetting ends sessions at once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections import Counter

import httpx
import nats
import pytest

from services.moderation.throttle import PAIR_FREE, LoginThrottle
from tests.e2e.moderation.mod_helpers import (  # noqa: F401 - close_clients is a fixture
    PASSWORD,
    api_client,
    close_clients,
    csrf,
    html_login,
    new_moderator,
)
from tests.natskv import kv_keys
from tests.stack import REPO, Stack, db_fetch, loopback_source


def test_login_rotates_the_session(stack: Stack) -> None:
    name = new_moderator(stack)
    client = html_login(stack, name)
    old = client.cookies.get("braided_mod")
    old_csrf = client.cookies.get("braided_csrf")
    # Logging in again from the same browser: a new token, and the old one is dead.
    page = client.get("/login")
    assert page.status_code == 303  # already logged in: straight to the queue
    r = client.post("/api/session", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200
    new = client.cookies.get("braided_mod")
    assert new and new != old and client.cookies.get("braided_csrf") != old_csrf
    with httpx.Client(base_url=stack.url("moderation"), cookies={"braided_mod": old}, timeout=10) as stale:
        assert stale.get("/api/queue").status_code == 401
    assert client.get("/api/queue").status_code == 200
    cookie_header = r.headers["set-cookie"].lower()
    assert "httponly" in cookie_header and "samesite=strict" in cookie_header


def test_logout_ends_the_session(stack: Stack) -> None:
    client = html_login(stack, new_moderator(stack))
    cookie = client.cookies.get("braided_mod")
    r = client.post("/logout", data={"csrf": csrf(client)})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    with httpx.Client(base_url=stack.url("moderation"), cookies={"braided_mod": cookie}, timeout=10) as stale:
        assert stale.get("/api/queue").status_code == 401


def _from(stack: Stack, source: str) -> httpx.Client:
    return httpx.Client(base_url=stack.url("moderation"), timeout=60,
                        transport=httpx.HTTPTransport(local_address=source))


async def test_parallel_guesses_are_counted_before_they_are_evaluated(stack: Stack) -> None:
    """60 wrong passwords at once from one address: at most the free attempts are
    evaluated (401), the rest wait (429); the owner logs in from her own address at once."""
    name = new_moderator(stack)
    stranger = loopback_source()
    async with httpx.AsyncClient(base_url=stack.url("moderation"), timeout=120,
                                 transport=httpx.AsyncHTTPTransport(local_address=stranger)) as client:
        responses = await asyncio.gather(*(
            client.post("/api/session", json={"username": name, "password": f"wrong guess {i}"}) for i in range(60)))
    codes = Counter(r.status_code for r in responses)
    assert codes[401] <= PAIR_FREE and codes[401] + codes[429] == 60, codes
    assert all("Too many failed logins" in r.json()["errors"]["session"] for r in responses if r.status_code == 429)
    # The stranger waits even with the right password, or guessing could simply go on.
    with _from(stack, stranger) as client:
        r = client.post("/api/session", json={"username": name, "password": PASSWORD})
        assert r.status_code == 429 and 0 < int(r.headers["retry-after"])
        page = client.get("/login")
        r = client.post("/login", data={"csrf": csrf(client, "/login"), "username": name, "password": PASSWORD})
        assert r.status_code == 429 and "Too many failed logins" in r.text and page.status_code == 200
    # The owner, from another address, at once.
    with _from(stack, loopback_source()) as owner:
        assert owner.post("/api/session", json={"username": name, "password": PASSWORD}).status_code == 200
    print(f"\n[login] 60 parallel wrong passwords: {dict(codes)}; owner from another address: 200")


async def test_failed_logins_are_throttled_per_client_without_storing_it(stack: Stack) -> None:
    nc = await nats.connect(stack.nats_admin_url)
    try:
        throttle = LoginThrottle(nc.jetstream(), client_failures=3)
        client = f"198.51.100.{uuid.uuid4().int % 250}"
        for i in range(3):
            assert await throttle.attempt(f"user-{i}-{uuid.uuid4().hex}", client) is None
        blocked = await throttle.attempt("someone-new", client)
        assert blocked is not None and blocked.retry_after > 0
        assert await throttle.attempt("someone-new", "198.51.100.251") is None
        # The KV holds only HMACs: no address and no name appears in any key.
        for bucket in ("ratelimit_login_client", "ratelimit_login_pair"):
            keys = await kv_keys(nc.jetstream(), bucket)
            assert keys and not any(client in k or "someone" in k for k in keys)
    finally:
        await nc.close()


def test_admin_adds_disables_and_resets_moderators_in_the_ui(stack: Stack) -> None:
    admin = html_login(stack, new_moderator(stack, "admin"))
    name = f"new-{uuid.uuid4().hex[:8]}"
    r = admin.post("/admin/moderators", data={"csrf": csrf(admin, "/admin/moderators"), "username": name,
                                               "password": "a brand new passphrase", "role": "moderator"})
    assert r.status_code == 303
    newcomer = html_login(stack, name, "a brand new passphrase")
    assert newcomer.get("/queue").status_code == 200

    # Too short a password: a clear 422 on the same page.
    r = admin.post("/admin/moderators/account", data={"csrf": csrf(admin, "/admin/moderators"), "username": name,
                                                       "action": "reset", "password": "short"})
    assert r.status_code == 422 and "at least 12 characters" in r.text

    r = admin.post("/admin/moderators/account", data={"csrf": csrf(admin, "/admin/moderators"), "username": name,
                                                       "action": "reset", "password": "another new passphrase"})
    assert r.status_code == 303
    assert newcomer.get("/queue").status_code == 303  # the reset ended the session
    newcomer = html_login(stack, name, "another new passphrase")

    r = admin.post("/admin/moderators/account", data={"csrf": csrf(admin, "/admin/moderators"), "username": name,
                                                       "action": "disable"})
    assert r.status_code == 303
    assert newcomer.get("/api/queue").status_code == 401  # disabling ended the session at once
    with httpx.Client(base_url=stack.url("moderation"), timeout=15) as c:
        assert c.post("/api/session", json={"username": name, "password": "another new passphrase"}).status_code == 401
    actions = [r["action"] for r in db_fetch(
        stack.dsn, "SELECT action FROM moderation.audit_log WHERE detail->>'username' = $1 ORDER BY id", name)]
    assert actions == ["account.added", "account.reset", "account.disabled"]
    assert admin.get("/audit").status_code == 200


def test_admin_cannot_disable_themselves(stack: Stack) -> None:
    name = new_moderator(stack, "admin")
    admin = html_login(stack, name)
    r = admin.post("/admin/moderators/account", data={"csrf": csrf(admin, "/admin/moderators"), "username": name,
                                                       "action": "disable"})
    assert r.status_code == 422 and "cannot disable your own account" in r.text


def test_cli_disables_enables_and_resets(stack: Stack) -> None:
    name = new_moderator(stack)
    client = stack.moderator(name, PASSWORD)
    try:
        def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "braided", "moderator", *args], input=stdin, text=True,
                                  capture_output=True, env=stack.env_with_db(), cwd=REPO, timeout=60)

        r = cli("disable", name)
        assert r.returncode == 0, r.stderr
        assert client.get("/api/queue").status_code == 401
        assert f"{name}\tmoderator\tdisabled" in cli("list").stdout
        assert cli("enable", name).returncode == 0
        r = cli("reset-password", name, stdin="a passphrase from the cli\n")
        assert r.returncode == 0, r.stderr
        stack.moderator(name, "a passphrase from the cli").close()
        r = cli("disable", "nobody-" + uuid.uuid4().hex[:6])
        assert r.returncode == 2 and "no moderator called" in r.stderr
    finally:
        client.close()


@pytest.mark.parametrize("path", ["/admin/wordlists", "/admin/reasons", "/admin/moderators"])
def test_admin_pages_render(stack: Stack, path: str) -> None:
    admin = html_login(stack, new_moderator(stack, "admin"))
    r = admin.get(path)
    assert r.status_code == 200 and 'name="csrf"' in r.text
    assert "<script>" not in r.text and "style=" not in r.text  # CSP: nothing inline
