"""Screening every part of a story readers will see (issue 15): the story, the
author's second-language version and the glossary are screened as texts of their
own in one batch, and each story's results are merged into one (the worst label,
each score's maximum). Passages and term hits of the extra parts are filed under
fields `translation_title` / `translation_body` / `glossary`, which the item view
highlights in the translation and ignores for the story itself."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

from services.moderation.screen import Policy, ScreenModel, ScreenResult, screen_stories
from services.moderation.screen.policy import _RANK
from services.moderation.screen.terms import Terms
from services.moderation.story_text import StoryText
from shared.events import Event


def _parts(data: dict[str, Any]) -> list[tuple[str, StoryText]]:
    parts = [("", StoryText(data["title"], data["body"]))]
    if tr := data.get("translation"):
        parts.append(("translation_", StoryText(tr["title"], tr["body"])))
    if gl := data.get("glossary"):
        parts.append(("glossary", StoryText("", "\n".join(f"{g['term']}: {g['meaning']}" for g in gl))))
    return parts


def _rename(spans: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    if not prefix:
        return spans
    if prefix == "glossary":
        return [s | {"field": "glossary"} for s in spans]
    return [s | {"field": prefix + s.get("field", "body")} for s in spans]


def merge(results: list[tuple[str, ScreenResult]]) -> ScreenResult:
    """One result for a story screened in parts: the worst label and severity, each
    score's maximum, every part's passages and hits (renamed by part)."""
    main = results[0][1]
    worst = max((r for _, r in results), key=lambda r: (_RANK[r.label], r.severity))
    scores: dict[str, float] = {}
    for _, r in results:
        for k, v in r.scores.items():
            scores[k] = max(scores.get(k, 0.0), v)
    passages = [p for prefix, r in results for p in _rename(r.passages, prefix)]
    hits = [h for prefix, r in results for h in _rename(r.term_hits, prefix)]
    return dataclasses.replace(main, label=worst.label, severity=worst.severity, scores=scores,
                               passages=sorted(passages, key=lambda p: -p.get("score", 0)), term_hits=hits)


async def screen_events(model: ScreenModel | None, events: list[Event], terms: Terms,
                        policy: Policy) -> AsyncIterator[tuple[int, ScreenResult]]:
    """Like screen_stories over each event's story, yielding (event index, merged
    result) once all of that story's parts are scored."""
    async for n, result in screen_data(model, [e.data for e in events], terms, policy):
        yield n, result


async def screen_data(model: ScreenModel | None, stories: list[dict[str, Any]], terms: Terms,
                      policy: Policy) -> AsyncIterator[tuple[int, ScreenResult]]:
    """screen_events over plain story dicts (title, body and the optional translation
    and glossary): the worker's events, or queue rows screened again once a model loads."""
    owners: list[tuple[int, str]] = []
    texts: list[StoryText] = []
    for n, data in enumerate(stories):
        for prefix, text in _parts(data):
            owners.append((n, prefix))
            texts.append(text)
    need = {n: sum(1 for o, _ in owners if o == n) for n in range(len(stories))}
    got: dict[int, list[tuple[str, ScreenResult]]] = {n: [] for n in range(len(stories))}
    async for i, result in screen_stories(model, texts, terms, policy):
        n, prefix = owners[i]
        got[n].append((prefix, result))
        if len(got[n]) == need[n]:
            yield n, merge(sorted(got[n], key=lambda pr: pr[0] != ""))
