"""Metrics only on the private listener (METRICS_HOST and a port per service): the
public ports answer 404 to /metrics, and /healthz shows no host name or pid."""

from __future__ import annotations

import re
import socket

import httpx
import pytest

from tests.stack import Stack

SERVICES = ("submission", "moderation", "publishing")


@pytest.mark.parametrize("service", SERVICES)
def test_public_port_has_no_metrics_and_the_private_listener_has(stack: Stack, service: str) -> None:
    assert httpx.get(stack.url(service, "/metrics"), timeout=10).status_code == 404
    httpx.get(stack.url(service, "/healthz"), timeout=10)  # at least one request counted
    r = httpx.get(f"http://127.0.0.1:{stack.metrics_ports[service]}/metrics", timeout=10)
    assert r.status_code == 200 and "braided_http_request_seconds" in r.text
    assert httpx.get(f"http://127.0.0.1:{stack.metrics_ports[service]}/", timeout=10).status_code == 404


def test_health_shows_no_host_name_or_pid(stack: Stack) -> None:
    texts = [httpx.get(stack.url(s, "/healthz"), timeout=10).text for s in SERVICES]
    assert all(socket.gethostname() not in t for t in texts)
    body = httpx.get(stack.url("moderation", "/healthz"), timeout=10).json()
    for worker in body["screen"].get("workers", []):
        assert re.fullmatch(r"worker-[0-9a-f]{8}", worker["worker_id"]), worker
