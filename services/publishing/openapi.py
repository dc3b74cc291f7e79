"""The publishing service's public API, as an OpenAPI document."""

from __future__ import annotations

from services.publishing.feed import Q_MAX
from services.publishing.reports import KINDS, REASON_MAX
from shared.openapi import PROBLEM, TOO_LARGE, UNAVAILABLE, document, endpoint, json_body

_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}

SPEC = document("Braided publishing", {
    "/api/stories": {"get": {
        "summary": "Published stories, newest first; filter by tag, search with q",
        "parameters": [
            {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            {"name": "tag", "in": "query", "schema": {"type": "string"}},
            {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": Q_MAX}},
        ],
        "responses": {"200": {"description": "A page of stories"}, "422": PROBLEM, "400": PROBLEM,
                      "503": UNAVAILABLE},
    }},
    "/api/stories/{id}": {"get": {
        "summary": "One published story",
        "parameters": [_ID],
        "responses": {"200": {"description": "The story"}, "404": {"description": "No such story"},
                      "410": {"description": "Withdrawn or taken down"}, "503": UNAVAILABLE},
    }},
    "/api/stories/{id}/reports": {"post": {
        "summary": "Report a story to the moderators",
        "parameters": [_ID],
        "requestBody": json_body({"type": "object", "properties": {
            "kind": {"type": "string", "enum": list(KINDS)},
            "reason": {"type": "string", "maxLength": REASON_MAX}}}),
        "responses": {"202": {"description": "Received; `report` is the reader's report code"}, "404": PROBLEM,
                      "413": TOO_LARGE, "422": PROBLEM, "429": PROBLEM, "400": PROBLEM, "503": UNAVAILABLE},
    }},
    "/api/reports/{code}": {"get": {
        "summary": "What became of a report, by its report code",
        "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "received, no_change, changed or removed"}, "404": PROBLEM},
    }},
    "/feed.atom": {"get": {
        "summary": "Atom feed of the newest stories",
        "parameters": [{"name": "tag", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "Atom XML"}, "400": PROBLEM, "503": UNAVAILABLE},
    }},
})

openapi = endpoint(SPEC)
