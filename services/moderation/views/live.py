"""Live updates for the queue page: server-sent events fed from NATS."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from services.moderation.web import moderator_only, rt
from shared.events import BadEvent, decode

SSE_SECONDS = 600  # a live-update stream ends after this; EventSource reconnects
KINDS = {"StoryScreened": "new", "StoryReported": "reported"}


@moderator_only()
async def events(request: Request) -> Response:
    """One `new` event per story filed in the queue and one `reported` per reader
    report. Only the label and story id travel, never a title: the page decides what
    to show. A story screened again after the model came back arrives as `new` too; a
    page that shows it updates its label in place."""
    nc = rt(request).nc
    inbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=200)

    async def on_message(msg: Any) -> None:
        try:
            event = decode(msg.data)
        except BadEvent:
            return
        kind = KINDS.get(event.type)
        if kind:
            with contextlib.suppress(asyncio.QueueFull):
                # The story id lets a page update an item it shows (screened again once a model loaded).
                inbox.put_nowait((kind, json.dumps({"label": event.data.get("label"),
                                                    "story_id": event.data.get("story_id")})))

    subs = [await nc.subscribe("stories.screened", cb=on_message),
            await nc.subscribe("stories.reported", cb=on_message)]

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SSE_SECONDS
        try:
            yield "retry: 3000\n: connected\n\n"
            while loop.time() < deadline:
                try:
                    kind, data = await asyncio.wait_for(inbox.get(), 15)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: {kind}\ndata: {data}\n\n"
        finally:
            for sub in subs:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
