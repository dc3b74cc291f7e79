"""Writing prompts (issue 15): admins publish and close them (HTML form or JSON);
every moderator can list them. Each change leaves as PromptPublished / PromptClosed."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.moderation import exchange
from services.moderation.web import EXPIRED, done, error, form, json_body, moderator_only, page, rt


@moderator_only()
async def api_list(request: Request) -> Response:
    return JSONResponse({"items": [exchange.prompt_json(r) for r in await exchange.list_prompts(rt(request).pool)]})


@moderator_only(admin=True)
async def api_publish(request: Request) -> Response:
    prompt, errors = exchange.parse_prompt(await json_body(request))
    if errors:
        return JSONResponse({"errors": errors}, status_code=422)
    prompt_id = await exchange.publish_prompt(rt(request).pool, request.state.moderator.id, prompt)
    return JSONResponse({"id": prompt_id}, status_code=201)


def _prompt_id(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.path_params["id"])
    except ValueError:
        return None


@moderator_only(admin=True)
async def api_close(request: Request) -> Response:
    pid = _prompt_id(request)
    if pid is None or not await exchange.close_prompt(rt(request).pool, pid):
        return JSONResponse({"error": "No open prompt with that id."}, status_code=404)
    return JSONResponse({"id": str(pid), "closed": True})


@moderator_only(admin=True)
async def prompts_page(request: Request, errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return page(request, "prompts.html", {"prompts": await exchange.list_prompts(rt(request).pool),
                                          "errors": errors or {}, "flash": request.query_params.get("done")},
                status_code=status_code)


@moderator_only(admin=True)
async def publish_form(request: Request) -> Response:
    data = await form(request)
    if data is None:
        return error(request, EXPIRED, 400)
    prompt, errors = exchange.parse_prompt({k: data.get(k) for k in ("title", "description", "opens_on",
                                                                       "closes_on")})
    if errors:
        return page(request, "prompts.html", {"prompts": await exchange.list_prompts(rt(request).pool),
                                              "errors": errors, "flash": None}, status_code=422)
    await exchange.publish_prompt(rt(request).pool, request.state.moderator.id, prompt)
    return done("/admin/prompts", "Prompt published.")


@moderator_only(admin=True)
async def close_form(request: Request) -> Response:
    data = await form(request)
    if data is None:
        return error(request, EXPIRED, 400)
    pid = _prompt_id(request)
    if pid is None or not await exchange.close_prompt(rt(request).pool, pid):
        return error(request, "No open prompt with that id.", 404)
    return done("/admin/prompts", "Prompt closed.")
