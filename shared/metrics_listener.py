"""Prometheus metrics on a private listener of their own (METRICS_HOST, default
127.0.0.1, and a port per service), never on the public web port: request counts by
route are an activity clock a stranger must not read (issue 10).

The listener is a small threaded WSGI server beside the service's event loop. It
answers /metrics and 404 to everything else. A port that is taken (two replicas on
one host, two stacks on one machine) costs a warning, not the service; port 0 picks
a free one (tests)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.exposition import ThreadingWSGIServer

log = logging.getLogger("braided.metrics")


def _app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO") != "/metrics" or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found"]
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Cache-Control", "no-store")])
    return [generate_latest(REGISTRY)]


class _Quiet(WSGIRequestHandler):
    """No access log: it would hold the scraper's address and a time."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class MetricsListener:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._server: ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int | None:
        """Listen; the port listened on, or None when it could not be bound."""
        try:
            self._server = make_server(self.host, self.port, _app, ThreadingWSGIServer, handler_class=_Quiet)
        except OSError as e:
            log.warning("metrics listener not started on %s:%s (%s); this process serves no metrics",
                        self.host, self.port, e.strerror or type(e).__name__)
            return None
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)
        self._thread.start()
        self.port = self._server.server_port
        log.info("metrics listening", extra={"host": self.host, "port": self.port})
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
