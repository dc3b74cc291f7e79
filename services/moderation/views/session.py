"""Logging in and out (HTML form and JSON), with login throttling."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from services.moderation import auth
from services.moderation.throttle import LoginThrottle
from services.moderation.web import EXPIRED, error, form, moderator_only, page, rt
from shared import edges
from shared.runtime import Runtime
from shared.web import CSRF_COOKIE, cookie_secure, csrf_ok


def _throttle(runtime: Runtime) -> LoginThrottle:
    if "throttle" not in runtime.extra:
        runtime.extra["throttle"] = LoginThrottle(runtime.js, client_failures=runtime.settings.login_client_failures)
    return runtime.extra["throttle"]


def _client(request: Request) -> str:
    # Only ever passed to the limiter, which keeps an HMAC of it in memory-only NATS KV.
    return request.client.host if request.client else "unknown"


async def login_page(request: Request) -> Response:
    if await auth.session_moderator(rt(request).pool, request.cookies.get(auth.SESSION_COOKIE),
                                    rt(request).settings.secret()):
        return RedirectResponse("/queue", status_code=303)
    return page(request, "login.html", {"error": None})


def _session_cookie(request: Request, response: Response, value: str) -> Response:
    secure = cookie_secure(request, rt(request).settings.cookie_secure)
    response.set_cookie(auth.SESSION_COOKIE, value, max_age=auth.SESSION_SECONDS, httponly=True,
                        samesite="strict", path="/", secure=secure)
    # A new CSRF token with the new session: a token seen before login is worthless after it.
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32), httponly=True, samesite="strict", path="/",
                        secure=secure)
    return response


async def _login(request: Request, username: str, password: str) -> auth.Moderator | str:
    throttle = _throttle(rt(request))
    # Counted before the password is checked: parallel guesses cannot all be evaluated.
    blocked = await throttle.attempt(username, _client(request))
    if blocked is not None:
        wait = request.state.retry_after = blocked.retry_after
        when = f"{wait} second{'s' if wait > 1 else ''}" if wait < 90 else f"about {round(wait / 60)} minutes"
        return f"Too many failed logins. Wait {when} and try again."
    mod = await auth.authenticate(rt(request).pool, username, password)
    if mod is None:
        return "That username and password do not match."
    await throttle.succeeded(username, _client(request))
    return mod


def _status(outcome: str) -> int:
    return 429 if outcome.startswith("Too many") else 401


def _retry_after(request: Request) -> dict[str, str] | None:
    wait = getattr(request.state, "retry_after", None)
    return {"Retry-After": str(wait)} if wait else None


async def _start(request: Request, mod: auth.Moderator, response: Response) -> Response:
    cookie = await auth.start_session(rt(request).pool, mod, rt(request).settings.secret(),
                                      previous=request.cookies.get(auth.SESSION_COOKIE))
    return _session_cookie(request, response, cookie)


async def login(request: Request) -> Response:
    data = await request.form()
    if not csrf_ok(request, data.get("csrf")):
        return page(request, "login.html", {"error": "The form expired; please try again."}, status_code=400)
    outcome = await _login(request, str(data.get("username", "")), str(data.get("password", "")))
    if isinstance(outcome, str):
        return page(request, "login.html", {"error": outcome, "username": data.get("username", "")},
                    status_code=_status(outcome), headers=_retry_after(request))
    return await _start(request, outcome, RedirectResponse("/queue", status_code=303))


async def api_login(request: Request) -> Response:
    try:
        data = edges.loads(await request.body())
        username, password = data["username"], data["password"]
        if not isinstance(username, str) or not isinstance(password, str):
            raise TypeError
    except edges.TooDeep:
        raise
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"errors": {"session": "Send {\"username\": …, \"password\": …} as JSON."}},
                            status_code=422)
    outcome = await _login(request, username, password)
    if isinstance(outcome, str):
        return JSONResponse({"errors": {"session": outcome}}, status_code=_status(outcome),
                            headers=_retry_after(request))
    return await _start(request, outcome, JSONResponse({"username": outcome.username, "role": outcome.role}))


@moderator_only()
async def logout(request: Request) -> Response:
    if await form(request) is None:
        return error(request, EXPIRED, 400)
    await auth.end_session(rt(request).pool, request.cookies.get(auth.SESSION_COOKIE), rt(request).settings.secret())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response
