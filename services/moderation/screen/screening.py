"""The screen: the model's scores, the community word lists and the policy, over
whole stories. It labels and orders; it never publishes, rejects or deletes."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from services.moderation.screen.model import ScreenModel
from services.moderation.screen.normalise import cluster_end, normalise_for_screen
from services.moderation.screen.policy import Policy, ScreenResult, result
from services.moderation.screen.terms import Terms, find_terms
from services.moderation.story_text import StoryText

log = logging.getLogger("braided.screen")


def screen_texts(model: ScreenModel | None, texts: list[str],
                 terms: Terms, policy: Policy | None = None,
                 on_done: Callable[[int, ScreenResult], None] | None = None) -> list[ScreenResult]:
    """Screen several stories together: every window of every story is scored in
    one length-sorted, token-budgeted pass, so short stories finish first and
    `on_done(index, result)` reports each story as soon as its last window is
    scored. Blocking; call it off the event loop."""
    policy = policy or Policy.default()
    normals = [normalise_for_screen(t) for t in texts]
    all_windows: list[list[int]] = []
    owners: list[tuple[int, int, int]] = []  # story index, char start, char end (normalised)
    per_story: list[list[int]] = [[] for _ in texts]  # window indices of each story
    if model is not None:
        for n, (norm, _) in enumerate(normals):
            for ids, a, b in model.windows(norm):
                per_story[n].append(len(all_windows))
                all_windows.append(ids)
                owners.append((n, a, b))
    results: list[ScreenResult | None] = [None] * len(texts)
    remaining = [len(w) for w in per_story]
    window_scores: list[dict[str, float]] = [{} for _ in all_windows]

    def finish(n: int) -> None:
        results[n] = _result(model, policy, texts[n], normals[n],
                             [(owners[i], window_scores[i]) for i in per_story[n]], terms)
        if on_done is not None:
            on_done(n, results[n])

    def scored(idx: list[int], scores: list[dict[str, float]]) -> None:
        for i, s in zip(idx, scores, strict=True):
            window_scores[i] = s
            n = owners[i][0]
            remaining[n] -= 1
            if remaining[n] == 0:
                finish(n)

    if model is not None and all_windows:
        model.score_windows(all_windows, on_scored=scored)
    for n in range(len(texts)):
        if results[n] is None:  # no model
            finish(n)
    return [r for r in results if r is not None]


def _result(model: ScreenModel | None, policy: Policy, text: str, normal: tuple[str, list[int]],
            windows: list[tuple[tuple[int, int, int], dict[str, float]]], terms: Terms) -> ScreenResult:
    norm, back = normal
    scores: dict[str, float] = {}
    spans: dict[str, tuple[int, int]] = {}  # label → its best window, as offsets into `norm`
    for (_, a, b), s in windows:
        for label, value in s.items():
            if value > scores.get(label, -1.0):
                scores[label], spans[label] = value, (a, b)
    bars = policy.bars()
    fired = [lab for lab in spans if scores[lab] >= bars[lab]]
    if model is not None and fired:
        # A window is ~400 words; point moderators at the sentence that fired.
        by_window: dict[tuple[int, int], list[str]] = {}
        for lab in fired:
            by_window.setdefault(spans[lab], []).append(lab)
        for (a, b), labels in by_window.items():
            spans |= model.narrow(norm, a, b, labels, bars)
    passages: list[dict[str, Any]] = []
    for label in fired:
        a, b = spans[label]
        passages.append({"label": label, "score": round(scores[label], 4),
                         "start": back[a] if a < len(back) else 0,
                         "end": cluster_end(text, back[b - 1] + 1) if 0 < b <= len(back) else 0})
    return result(policy, model.name if model else None, scores, passages, find_terms(text, normal, terms))


def by_field(story: StoryText, screened: ScreenResult) -> ScreenResult:
    """`screened` (a result over `story.text`) with its passages and term hits as
    offsets into the displayed title or body."""
    return dataclasses.replace(screened, passages=story.by_field(screened.passages),
                               term_hits=story.by_field(screened.term_hits))


async def screen_stories(model: ScreenModel | None, stories: list[StoryText], terms: Terms,
                         policy: Policy) -> AsyncIterator[tuple[int, ScreenResult]]:
    """Screen `stories` together in a thread, yielding (index, result) as soon as each
    story's windows are scored (so short stories are not held back by a long one),
    with offsets per field. If the model fails mid-batch (a torch error, out of
    memory), the stories it had not finished still come, `unscreened` (word lists
    still apply): they go to people rather than failing open or crash-looping."""
    loop = asyncio.get_running_loop()
    texts = [s.text for s in stories]
    # The inference thread reports each story as it finishes, then ("end", error).
    done: asyncio.Queue[tuple[int | str, Any]] = asyncio.Queue()

    def report(item: tuple[int | str, Any]) -> None:
        loop.call_soon_threadsafe(done.put_nowait, item)

    def infer() -> None:
        try:
            screen_texts(model, texts, terms, policy, lambda n, r: report((n, r)))
        except Exception as e:  # reported to the loop, which files the rest unscreened
            report(("end", e))
        else:
            report(("end", None))

    inference = asyncio.ensure_future(asyncio.to_thread(infer))
    pending = set(range(len(stories)))
    try:
        while True:
            n, item = await done.get()
            if n == "end":
                break
            assert isinstance(n, int)
            pending.discard(n)
            yield n, by_field(stories[n], item)
    finally:
        await inference
    if pending:
        log.error("screen: inference failed (%s); filing %d stories as unscreened", type(item).__name__, len(pending))
        rest = sorted(pending)
        for n, fallback in zip(rest, screen_texts(None, [texts[n] for n in rest], terms, policy), strict=True):
            yield n, by_field(stories[n], fallback)
