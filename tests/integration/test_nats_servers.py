"""NATS_URL as operators write it for a cluster, and the client side of bus credentials.

The forms are the ones nats.go splits (processUrlString: split on commas, trim spaces
and a trailing slash, drop empty parts) and the `nats` CLI's --server takes; every
part must then be one nats-py itself parses.
"""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.client import Client

from shared import bus
from shared.config import ConfigError, Settings, nats_servers
from shared.infra import EmbeddedNats, free_port

FORMS = [
    ("nats://a:4222,nats://b:4222,nats://c:4222", ["nats://a:4222", "nats://b:4222", "nats://c:4222"]),
    ("nats://a:4222, nats://b:4222 ,  nats://c:4222 ", ["nats://a:4222", "nats://b:4222", "nats://c:4222"]),
    ("tls://nats-0.nats:4222,tls://nats-1.nats:4222", ["tls://nats-0.nats:4222", "tls://nats-1.nats:4222"]),
    ("nats://submission:s3cr%2Ct@a:4222,nats://submission:s3cr%2Ct@b:4222",
     ["nats://submission:s3cr%2Ct@a:4222", "nats://submission:s3cr%2Ct@b:4222"]),
    ("nats://a:4222/,nats://b:4222/", ["nats://a:4222", "nats://b:4222"]),
    ("a:4222,b", ["a:4222", "b"]),
    ("nats://a:4222,,nats://b:4222,", ["nats://a:4222", "nats://b:4222"]),
    ("nats://127.0.0.1:4222", ["nats://127.0.0.1:4222"]),
]


@pytest.mark.parametrize("raw, expected", FORMS)
def test_nats_url_forms_split_like_nats_go(raw: str, expected: list[str]) -> None:
    assert nats_servers(raw) == expected
    for part in expected:
        uri = Client._parse_server_uri(part)  # nats-py's own parser accepts every part
        assert uri.hostname and uri.port


def test_nats_py_refuses_the_comma_string_itself() -> None:
    """Why the split exists: nats-py 2.16 takes the whole string as one URL."""
    with pytest.raises(Exception, match="invalid connect url"):
        Client._parse_server_uri("nats://a:4222,nats://b:4222")


def test_user_and_password_in_a_part_reach_nats_py() -> None:
    uri = Client._parse_server_uri(nats_servers(" nats://moderation:pw@nats-1:4222 ,nats://x:y@nats-2:4222")[0])
    assert (uri.username, uri.password, uri.hostname, uri.port) == ("moderation", "pw", "nats-1", 4222)


@pytest.mark.parametrize("env, message", [
    ({"NATS_URL": " , "}, "NATS_URL"),
    ({"NATS_USER": "submission"}, "NATS_PASSWORD"),
    ({"NATS_PASSWORD": "pw"}, "NATS_USER"),
    ({"NATS_CREDS": "/nonexistent/braided.creds"}, "NATS_CREDS"),
])
def test_bad_bus_settings_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_creds_and_user_are_exclusive(tmp_path) -> None:
    creds = tmp_path / "svc.creds"
    creds.write_text("-----BEGIN NATS USER JWT-----\n")
    assert Settings.from_env({"NATS_CREDS": str(creds)}).nats_creds == str(creds)
    with pytest.raises(ConfigError, match="not both"):
        Settings.from_env({"NATS_CREDS": str(creds), "NATS_USER": "u", "NATS_PASSWORD": "p"})


async def test_a_node_down_at_start_up_is_skipped(nats_server: EmbeddedNats) -> None:
    """The first servers listed are down (nothing listens there); the client goes on
    to the one that answers instead of looping on "waiting for nats"."""
    dead = [f"nats://127.0.0.1:{free_port()}" for _ in range(2)]
    nc = await bus.connect(f"{dead[0]}, {dead[1]},{nats_server.url}", "test-cluster-url")
    try:
        assert nc.is_connected
        assert nc.connected_url.port == nats_server.port
    finally:
        await nc.close()


async def test_user_and_password_are_sent(tmp_path) -> None:
    """A server that wants a user refuses an anonymous client and takes the configured one."""
    server = EmbeddedNats(tmp_path, args=("--user", "submission", "--pass", "a long random password"), auth=False)
    server.start()
    try:
        # Refused: the client keeps retrying (as it would through an outage) and never connects.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(bus.connect(server.url, "anonymous"), 2)
        nc = await bus.connect(server.url, "submission", user="submission", password="a long random password")
        assert nc.is_connected
        await nc.close()
    finally:
        server.stop()
