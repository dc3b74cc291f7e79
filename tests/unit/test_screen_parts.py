"""Screening a story in parts (story, second-language version, glossary): the worker's
events and the queue rows screened again once a model loads go through one path."""

from __future__ import annotations

import asyncio

from services.moderation.screen import Policy, compile_terms
from services.moderation.screen_parts import screen_data


def _screen(stories: list[dict]) -> dict:
    terms = compile_terms([("zorblax", "banned")])
    policy = Policy({}, {})

    async def run() -> dict:
        return {n: r async for n, r in screen_data(None, stories, terms, policy)}
    return asyncio.run(run())


def test_a_banned_term_only_in_the_translation_or_glossary_is_found_and_named_by_part() -> None:
    body = "A story long enough to be shared, about two kitchens."
    results = _screen([
        {"title": "Plain", "body": body},
        {"title": "Plain", "body": body, "translation": {"lang": "en", "title": "T", "body": "has zorblax in it"}},
        {"title": "Plain", "body": body, "glossary": [{"term": "zorblax", "meaning": "a word"}]},
    ])
    assert results[0].term_hits == []
    assert {h["field"] for h in results[1].term_hits} == {"translation_body"}
    assert {h["field"] for h in results[2].term_hits} == {"glossary"}
    assert results[1].label == results[2].label != results[0].label
