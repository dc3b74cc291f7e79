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
            {"name": "prompt", "in": "query", "schema": {"type": "string", "format": "uuid"},
             "description": "Only stories written for this prompt"},
        ],
        "responses": {"200": {"description": "A page of stories"}, "422": PROBLEM, "400": PROBLEM,
                      "503": UNAVAILABLE},
    }},
    "/api/stories/{id}": {"get": {
        "summary": "One published story: its fields, \"resonance\" (rounded to 5 above 20), and when set "
                   "\"prompt\" {id, title}, \"in_response_to\" {id, title}, \"responses\" [{id, title}], "
                   "\"lang\", \"translation\" {lang, title, body}, \"glossary\" [{term, meaning}]",
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
    "/api/stories/{id}/resonate": {"post": {
        "summary": "\"This resonated with me\": one more press; nothing about the reader is kept",
        "parameters": [_ID],
        "responses": {"202": {"description": "{\"resonance\": n} (rounded to the nearest 5 above 20)"},
                      "403": {"description": "A cross-site request"}, "404": {"description": "No such story"},
                      "410": {"description": "Withdrawn or taken down"},
                      "429": {"description": "Too many presses from this client; see Retry-After"},
                      "503": UNAVAILABLE},
    }},
    "/api/prompts": {"get": {
        "summary": "Writing prompts that have opened: {\"items\": [{id, title, description, opens_on, closes_on, "
                   "open, stories}]}",
        "responses": {"200": {"description": "The prompts"}, "503": UNAVAILABLE},
    }},
    "/api/glossary": {"get": {
        "summary": "Glossary terms of published stories: {\"items\": [{term, uses: [{meaning, story: {id, title}}]}]}",
        "parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": Q_MAX},
                        "description": "Part of a term or a meaning"}],
        "responses": {"200": {"description": "The terms"}, "503": UNAVAILABLE},
    }},
    "/feed.atom": {"get": {
        "summary": "Atom feed of the newest stories",
        "parameters": [{"name": "tag", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "Atom XML"}, "400": PROBLEM, "503": UNAVAILABLE},
    }},
})

openapi = endpoint(SPEC)
