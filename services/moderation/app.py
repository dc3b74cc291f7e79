"""Moderation service: the moderators' workspace (moderators only). The route table
and the lifespan; the views live in views/, one module per page family."""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from services.moderation import openapi, retention
from services.moderation.handlers import HANDLERS, SCREENED
from services.moderation.screen.status import keep_gauge
from services.moderation.views import (
    admin,
    audit,
    decisions,
    health,
    live,
    prompts,
    queue,
    resources,
    screen,
    session,
)
from shared import edges, natsauth
from shared.config import Settings
from shared.consumer import Consumer, consumers
from shared.runtime import Runtime, lifespan
from shared.web import BodyLimit, SecurityHeaders, exception_handlers, static_files

HERE = Path(__file__).parent

# Routes reachable without a session; tests prove every other route refuses an
# anonymous request.
PUBLIC_PATHS = frozenset({"/login", "/api/session", "/healthz", "/static", "/openapi.json"})


# Every event but StorySubmitted, which the screening workers' consumer takes.
CONSUMES = {name: handler for name, handler in HANDLERS.items() if name != SCREENED}


def _consumers(rt: Runtime) -> list[Consumer]:
    rt.tasks.append(asyncio.create_task(keep_gauge(rt), name="screen-status"))  # braided_screen_up
    return consumers(rt.js, rt.pool, natsauth.identity("moderation"), CONSUMES)


class NoStore:
    """`Cache-Control: no-store` on every moderation answer: held story text, queue
    JSON and moderators' pages must never sit in a browser's or proxy's cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            send = edges.adding_headers(send, [(b"cache-control", b"no-store")], replace=True)
        await self.app(scope, receive, send)


def create_app(settings: Settings) -> Starlette:
    return Starlette(
        routes=[
            Route("/", queue.home),
            Route("/login", session.login_page),
            Route("/login", session.login, methods=["POST"]),
            Route("/logout", session.logout, methods=["POST"]),
            Route("/queue", queue.queue_page),
            Route("/queue/bulk", decisions.bulk_form, methods=["POST"]),
            Route("/queue/{id}", queue.item_page),
            Route("/queue/{id}/decision", decisions.decide_form, methods=["POST"]),
            Route("/queue/{id}/reveal", queue.reveal_form, methods=["POST"]),
            Route("/queue/{id}/takedown", decisions.takedown_form, methods=["POST"]),
            Route("/queue/{id}/dismiss", decisions.dismiss_form, methods=["POST"]),
            Route("/events", live.events),
            Route("/audit", audit.audit_page),
            Route("/dashboard", audit.dashboard_page),
            Route("/dashboard/screen/retry", screen.retry_form, methods=["POST"]),
            Route("/dashboard/screen/threshold", screen.threshold_form, methods=["POST"]),
            Route("/me", queue.me_page),
            Route("/me", queue.me_form, methods=["POST"]),
            Route("/admin/moderators", admin.moderators_page),
            Route("/admin/moderators", admin.add_moderator_form, methods=["POST"]),
            Route("/admin/moderators/account", admin.account_form, methods=["POST"]),
            Route("/admin/wordlists", admin.wordlists_page),
            Route("/admin/wordlists", admin.wordlists_form, methods=["POST"]),
            Route("/admin/reasons", admin.reasons_page),
            Route("/admin/reasons", admin.reasons_form, methods=["POST"]),
            Route("/api/session", session.api_login, methods=["POST"]),
            Route("/api/queue", queue.api_queue),
            Route("/api/queue/counts", queue.api_counts),
            Route("/api/queue/{id}/decision", decisions.api_decide, methods=["POST"]),
            Route("/api/queue/{id}/claim", queue.api_claim, methods=["POST"]),
            Route("/api/queue/{id}/reveal", queue.api_reveal, methods=["POST"]),
            Route("/api/queue/{id}/takedown", decisions.api_takedown, methods=["POST"]),
            Route("/resources", resources.resources_page),
            Route("/resources", resources.resources_form, methods=["POST"]),
            Route("/api/resources", resources.api_get),
            Route("/api/resources", resources.api_put, methods=["PUT"]),
            Route("/admin/prompts", prompts.prompts_page),
            Route("/admin/prompts", prompts.publish_form, methods=["POST"]),
            Route("/admin/prompts/{id}/close", prompts.close_form, methods=["POST"]),
            Route("/api/prompts", prompts.api_list),
            Route("/api/prompts", prompts.api_publish, methods=["POST"]),
            Route("/api/prompts/{id}/close", prompts.api_close, methods=["POST"]),
            Route("/healthz", health.healthz),
            Route("/openapi.json", openapi.openapi),
            Mount("/static", static_files(HERE), name="static"),
        ],
        middleware=[*edges.edge_middleware(settings), Middleware(NoStore), Middleware(SecurityHeaders),
                    Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
        exception_handlers=exception_handlers(),
        lifespan=lifespan("moderation", HERE, settings, consumers=_consumers, purge=retention.purge),
    )
