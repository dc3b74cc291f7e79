"""Pieces every service's OpenAPI document shares (served at GET /openapi.json).

Each service writes its document by hand (its openapi.py) so it says what the API
promises — field limits included — and schemathesis tests each running service
against its document."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

ERRORS = {"type": "object", "properties": {"errors": {"type": "object", "additionalProperties": {"type": "string"}}}}
PROBLEM = {"description": "A clear message", "content": {"application/json": {"schema": ERRORS}}}
UNAVAILABLE = {"description": "A dependency (database, NATS) is briefly unavailable"}
TOO_LARGE = {"description": "The body is larger than MAX_BODY_BYTES"}
HEALTH = {
    "get": {
        "summary": "200 when the database and NATS answer, 503 otherwise",
        "responses": {"200": {"description": "Healthy"}, "503": UNAVAILABLE},
    }
}


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def document(title: str, paths: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": title, "version": "1"}, "paths": {"/healthz": HEALTH} | paths}


def endpoint(spec: dict[str, Any]):  # noqa: ANN201 - a Starlette endpoint
    async def openapi(request: Request) -> Response:
        return JSONResponse(spec)

    return openapi
