"""The moderation service's API (moderators only, after POST /api/session)."""

from __future__ import annotations

from services.moderation import exchange, queue
from services.moderation.decisions import REASON_MAX
from services.moderation.screen.policy import OUTCOMES
from shared.openapi import PROBLEM, TOO_LARGE, UNAVAILABLE, document, endpoint, json_body

_AUTH = {"401": {"description": "Log in first"}, "503": UNAVAILABLE}

SPEC = document("Braided moderation", {
    "/api/session": {"post": {
        "summary": "Log in; sets the session cookie",
        "requestBody": json_body({"type": "object", "required": ["username", "password"], "properties": {
            "username": {"type": "string"}, "password": {"type": "string"}}}),
        "responses": {"200": {"description": "Logged in"}, "401": PROBLEM, "422": PROBLEM, "400": PROBLEM,
                      "413": TOO_LARGE, "503": UNAVAILABLE},
    }},
    "/api/queue": {"get": {
        "summary": "The review queue",
        "parameters": [
            {"name": "state", "in": "query", "schema": {"type": "string", "enum": list(queue.STATES)}},
            {"name": "label", "in": "query", "schema": {"type": "string", "enum": list(OUTCOMES)}},
            {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {"200": {"description": "A page of items"}, "422": PROBLEM, "400": PROBLEM} | _AUTH,
    }},
    "/api/queue/{id}/decision": {"post": {
        "summary": "Approve or reject a pending story (final)",
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "schema": {"type": "string", "format": "uuid"}}],
        "requestBody": json_body({"type": "object", "required": ["decision"], "properties": {
            "decision": {"type": "string", "enum": ["approve", "reject"]},
            "reason": {"type": "string", "maxLength": REASON_MAX},
            "content_warnings": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
            "tags": {"type": "array", "items": {"type": "string"}},
            "glossary": {"type": "array", "maxItems": exchange.GLOSSARY_MAX,
                         "description": "Replaces the author's glossary (approve only); [] removes every term",
                         "items": {"type": "object", "required": ["term", "meaning"], "properties": {
                             "term": {"type": "string"}, "meaning": {"type": "string"}}}}}}),
        "responses": {"200": {"description": "Decided"}, "404": PROBLEM, "409": PROBLEM, "415": PROBLEM,
                      "422": PROBLEM, "400": PROBLEM, "413": TOO_LARGE} | _AUTH,
    }},
    "/api/prompts": {
        "get": {"summary": "Every writing prompt, open ones first",
                "responses": {"200": {"description": "{\"items\": [{id, title, description, opens_on, closes_on, "
                                                     "closed}]}"}} | _AUTH},
        "post": {
            "summary": "Publish a writing prompt (admins); sends PromptPublished",
            "requestBody": json_body({"type": "object", "required": ["title"], "properties": {
                "title": {"type": "string", "minLength": 1, "maxLength": exchange.PROMPT_TITLE_MAX},
                "description": {"type": "string", "maxLength": exchange.PROMPT_DESCRIPTION_MAX},
                "opens_on": {"type": "string", "format": "date", "nullable": True},
                "closes_on": {"type": "string", "format": "date", "nullable": True}}}),
            "responses": {"201": {"description": "{\"id\"}"}, "403": {"description": "Admins only"},
                          "415": PROBLEM, "422": PROBLEM, "400": PROBLEM, "413": TOO_LARGE} | _AUTH,
        },
    },
    "/api/prompts/{id}/close": {"post": {
        "summary": "Close a writing prompt (admins); sends PromptClosed",
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "schema": {"type": "string", "format": "uuid"}}],
        "requestBody": json_body({"type": "object"}),
        "responses": {"200": {"description": "Closed"}, "403": {"description": "Admins only"},
                      "404": PROBLEM, "415": PROBLEM, "400": PROBLEM, "413": TOO_LARGE} | _AUTH,
    }},
})

openapi = endpoint(SPEC)
