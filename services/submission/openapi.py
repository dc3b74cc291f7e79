"""The submission service's public API, as an OpenAPI document."""

from __future__ import annotations

from services.submission import exchange as x
from services.submission import validation as v
from services.submission.receipts import SUBMISSION_KEY
from shared.openapi import PROBLEM, TOO_LARGE, UNAVAILABLE, document, endpoint, json_body
from shared.taxonomy import CONTENT_WARNINGS_MAX, TAGS_MAX

_TEXT_LIST = {"type": "array", "items": {"type": "string"}}
STORY = {
    "type": "object",
    "required": ["title", "body"],
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": v.TITLE_MAX},
        "body": {"type": "string", "minLength": v.BODY_MIN, "maxLength": v.BODY_MAX},
        "pen_name": {"type": "string", "nullable": True, "maxLength": v.PEN_NAME_MAX},
        "tags": _TEXT_LIST | {"maxItems": TAGS_MAX},
        "content_warnings": _TEXT_LIST | {"maxItems": CONTENT_WARNINGS_MAX},
        # The exchange (issue 15).
        "prompt_id": {"type": "string", "format": "uuid", "nullable": True,
                      "description": "An open writing prompt (GET /api/prompts on publishing); 422 otherwise"},
        "in_response_to": {"type": "string", "format": "uuid", "nullable": True,
                           "description": "A published story this one answers; 422 otherwise"},
        "lang": {"type": "string", "nullable": True, "maxLength": x.LANG_MAX,
                 "description": "BCP 47 tag of the title and body, e.g. tl, zh-Hant"},
        "translation": {"type": "object", "nullable": True, "additionalProperties": False,
                        "required": ["lang", "title", "body"],
                        "description": "The author's own version in a second language (screened too)",
                        "properties": {"lang": {"type": "string", "maxLength": x.LANG_MAX},
                                       "title": {"type": "string", "minLength": 1, "maxLength": v.TITLE_MAX},
                                       "body": {"type": "string", "minLength": v.BODY_MIN,
                                                "maxLength": v.BODY_MAX}}},
        "glossary": {"type": "array", "maxItems": x.GLOSSARY_MAX, "items": {
            "type": "object", "required": ["term", "meaning"], "additionalProperties": False,
            "properties": {"term": {"type": "string", "minLength": 1, "maxLength": x.TERM_MAX},
                           "meaning": {"type": "string", "minLength": 1, "maxLength": x.MEANING_MAX}}}},
    },
}
RECEIPT = {"type": "object", "required": ["receipt"], "properties": {"receipt": {"type": "string"}}}
_RECEIPT_RESPONSES = {"200": {"description": "The story's status"}, "404": PROBLEM, "413": TOO_LARGE,
                      "422": PROBLEM, "400": PROBLEM, "503": UNAVAILABLE}

SPEC = document("Braided submission", {
    "/api/stories": {"post": {
        "summary": "Share a story; the receipt code is shown only in this response",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "description": "A fresh random value per story (16-200 of A-Z a-z 0-9 - _). A retry with "
                                       "the same key and story stores nothing new and returns the same receipt: "
                                       "keep the key as secret as the receipt.",
                        "schema": {"type": "string", "pattern": SUBMISSION_KEY.pattern}}],
        "requestBody": json_body(STORY),
        "responses": {"202": {"description": "Received"}, "422": PROBLEM, "400": PROBLEM, "413": TOO_LARGE,
                      "409": PROBLEM,
                      "429": {"description": "Too many stories from this client; see Retry-After"},
                      "503": UNAVAILABLE},
    }},
    "/api/receipts/status": {"post": {"summary": "A story's status, by receipt code",
                                      "requestBody": json_body(RECEIPT), "responses": _RECEIPT_RESPONSES}},
    "/api/receipts/withdraw": {"post": {"summary": "Withdraw a story everywhere, by receipt code",
                                        "requestBody": json_body(RECEIPT), "responses": _RECEIPT_RESPONSES}},
    "/api/receipts/appeal": {"post": {
        "summary": "Appeal a rejection once, within APPEAL_DAYS, by receipt code; another moderator decides",
        "requestBody": json_body({"type": "object", "required": ["receipt", "message"], "properties": {
            "receipt": {"type": "string"}, "message": {"type": "string", "maxLength": 2000}}}),
        "responses": _RECEIPT_RESPONSES | {"202": {"description": "Appealed"},
                                           "409": {"description": "Not rejected, already appealed, or too late"}}}},
})

openapi = endpoint(SPEC)
