"""The private metrics listener: /metrics only, 404 elsewhere, a taken port is a
warning and not a crash, port 0 picks a free one."""

from __future__ import annotations

import logging
import socket
import urllib.error
import urllib.request

import pytest

from shared.metrics_listener import MetricsListener


def test_serves_metrics_only_and_picks_a_free_port() -> None:
    listener = MetricsListener("127.0.0.1", 0)
    port = listener.start()
    try:
        assert port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            assert r.status == 200 and b"python_info" in r.read()
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
        assert e.value.code == 404
        e.value.close()
    finally:
        listener.stop()


def test_a_taken_port_costs_a_warning_not_the_service(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with caplog.at_level(logging.WARNING):
            assert MetricsListener("127.0.0.1", taken.getsockname()[1]).start() is None
    assert "metrics listener not started" in caplog.text
