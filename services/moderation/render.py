"""Server-side rendering helpers for the item view: highlighted passages and
score bars. Everything is escaped here; the templates get Markup."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from services.moderation.story_text import StoryText


def spans_for(field: str, passages: list[dict[str, Any]], term_hits: list[dict[str, Any]],
              length: int, title_length: int | None = None) -> list[tuple[int, int, str, str]]:
    """(start, end, css class, explanation) for one field, clamped to the text.

    The screen reads a story as one text (StoryText) and files a passage under the
    field where it starts; one that starts in the title and runs on into the body
    is continued into the body here (given `title_length`)."""
    out = []
    for p in passages or []:
        why = f"{p.get('label', '?').replace('_', ' ')} {float(p.get('score', 0)):.2f}"
        if p.get("field", "body") == field:
            out.append((p.get("start", 0), p.get("end", 0), "hl-passage", why))
        elif field == "body" and p.get("field") == "title" and title_length is not None:
            spill = StoryText.into_body(title_length, int(p.get("end", 0)))
            if spill > 0:
                out.append((0, spill, "hl-passage", why))
    for h in term_hits or []:
        if h.get("field", "body") == field:
            out.append((h.get("start", 0), h.get("end", 0), f"hl-{h.get('kind', 'suspect')}",
                        f"{h.get('kind', '')} term: {h.get('term', '')}"))
    clamped = []
    for a, b, cls, why in out:
        a, b = max(0, min(int(a), length)), max(0, min(int(b), length))
        if b > a:
            clamped.append((a, b, cls, why))
    return clamped


_PRIORITY = {"hl-banned": 0, "hl-suspect": 1, "hl-passage": 2}


def highlight(text: str, spans: list[tuple[int, int, str, str]]) -> Markup:
    """`text` with each span wrapped in <mark>. Overlapping spans are cut at
    every boundary; a piece covered by several gets the strongest class and
    every explanation."""
    if not spans:
        return escape(text)
    cuts = sorted({0, len(text)} | {a for a, _, _, _ in spans} | {b for _, b, _, _ in spans})
    parts: list[str] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        piece = escape(text[a:b])
        covering = [s for s in spans if s[0] <= a and b <= s[1]]
        if not covering:
            parts.append(piece)
            continue
        cls = min((c for _, _, c, _ in covering), key=lambda c: _PRIORITY.get(c, 9))
        why = "; ".join(dict.fromkeys(w for _, _, _, w in covering))
        parts.append(f'<mark class="hl {cls}" title="{escape(why)}">{piece}</mark>')
    return Markup("".join(parts))


def score_bars(scores: dict[str, float] | None) -> list[dict[str, Any]]:
    """Labels sorted by score, each with a width class in 5% steps (CSP forbids
    inline style attributes, so widths are classes from mod.css)."""
    bars = []
    for label, value in sorted((scores or {}).items(), key=lambda kv: -kv[1]):
        v = max(0.0, min(1.0, float(value)))
        bars.append({"label": label.replace("_", " "), "value": v, "step": round(v * 20) * 5,
                     "level": "high" if v >= 0.5 else "mid" if v >= 0.2 else "low"})
    return bars


def fired_labels(passages: list[dict[str, Any]] | None, term_hits: list[dict[str, Any]] | None) -> list[str]:
    """What made the screen hold or flag an item, for the warning over the blur."""
    out = [p.get("label", "?").replace("_", " ") for p in passages or []]
    out += [f"{h.get('kind')} term" for h in term_hits or [] if h.get("kind") == "banned"]
    out += [f"{h.get('kind')} term" for h in term_hits or [] if h.get("kind") == "suspect"]
    return list(dict.fromkeys(out))
