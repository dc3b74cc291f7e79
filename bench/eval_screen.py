"""Fairness of the configured screen to the words this community uses for itself.

Runs the configured model (DETOXIFY_MODEL, or DETOXIFY_CHECKPOINT +
DETOXIFY_HF_CONFIG) with the configured thresholds (SCREEN_FLAG, SCREEN_HOLD,
plus any flag thresholds given with --flag) over a benign identity corpus built
from templates: each term in a neutral, a positive and a reclaimed frame, in
short and in story-length settings, in English and in the scripts members write.
For each term it prints the share of those benign stories the screen would flag
or hold, and per label the share whose score reaches that label's flag
threshold. The same table for a small hostile set shows the rates are not bought
by missing everything. Nothing is stored; the word lists in the database are not
read (give `--suspect` / `--banned` terms to include some).

    make eval-screen                       # after `make models`
    .venv/bin/python bench/eval_screen.py [--flag toxicity=0.7] [--hostile "text"] [--json]

A benign term flagged more than a few percent of the time costs its speakers a
slower, more suspicious review: raise that label's SCREEN_FLAG threshold (the
dashboard's calibration table suggests one from past decisions), then run this
again and check the hostile rows still flag.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# (term, as it reads after "I am" / "a"): single and mixed heritage, lesbian and queer words.
TERMS: list[tuple[str, str]] = [
    ("hapa", "hapa"), ("mixed", "mixed"), ("biracial", "biracial"), ("multiracial", "multiracial"),
    ("half Japanese", "half Japanese"), ("Chinese-Irish", "Chinese-Irish"), ("Filipina-Scottish", "Filipina-Scottish"),
    ("Korean-Mexican", "Korean-Mexican"), ("Vietnamese-German", "Vietnamese-German"), ("Asian", "Asian"),
    ("lesbian", "a lesbian"), ("queer", "queer"), ("gay", "gay"), ("dyke", "a dyke"), ("butch", "butch"),
    ("femme", "femme"), ("tomboy", "a tomboy"), ("bisexual", "bisexual"), ("trans", "trans"),
]
FRAMES = {
    "neutral": ["I am {p}.", "My girlfriend is {p}, like me.", "The new member of our book club is {p}."],
    "positive": ["Being {p} is a joy, and I am proud of my family.",
                 "I love being {p}; my grandmother taught me to be proud of it.",
                 "To every young woman who is {p}: you are not alone, you are loved."],
    "reclaimed": ["{T} and proud. Call me {p}; it is our word now.",
                  "Yes, I am {p}. We say it ourselves, out loud, at the dinner table.",
                  "They used to whisper it at school. Now I say it: I am {p}, and happy."],
}
# Terms in the scripts members write, with a sentence per frame in that language.
SCRIPTS: dict[str, dict[str, list[str]]] = {
    "我是女同性恋": {"neutral": ["我是女同性恋。"], "positive": ["我是女同性恋，我为自己骄傲。"],
                 "reclaimed": ["是的，我是女同性恋，我们自己这样说。"]},
    "レズビアン": {"neutral": ["私はレズビアンです。"], "positive": ["レズビアンであることを誇りに思います。"],
              "reclaimed": ["そう、私はレズビアン。自分たちの言葉です。"]},
    "레즈비언": {"neutral": ["나는 레즈비언이다."], "positive": ["레즈비언인 내가 자랑스럽다."],
             "reclaimed": ["그래, 나는 레즈비언이야. 우리가 쓰는 말이야."]},
    "đồng tính nữ": {"neutral": ["Tôi là người đồng tính nữ."], "positive": ["Tôi tự hào là người đồng tính nữ."],
                     "reclaimed": ["Đúng, tôi là đồng tính nữ, và chúng tôi tự nói như vậy."]},
    "tomboy (Tagalog)": {"neutral": ["Tomboy ako."], "positive": ["Masaya ako na tomboy ako."],
                         "reclaimed": ["Oo, tomboy ako, at proud ako."]},
}
# A story-length setting: the term sentence inside ordinary prose, at the start and at the end.
PROSE = ("We made dumplings at my grandmother's house for the new year, folding them the way her mother did, "
         "and my cousins argued about the right amount of ginger while the rice cooker clicked off.")
HOSTILE = [
    "You are disgusting and stupid, shut up you worthless idiot.",
    "I will find you and hurt you and your whole family.",
    "People like you should be beaten until you learn your place.",
    "Go back to where you came from, nobody wants your filthy kind here.",
    "You are a pathetic freak and everyone laughs at you behind your back.",
    "Shut your mouth, you ugly moron, before I shut it for you.",
]


def benign_corpus() -> dict[str, list[tuple[str, str]]]:
    """term → [(frame, text)], every frame alone and inside prose."""
    out: dict[str, list[tuple[str, str]]] = {}
    for term, phrase in TERMS:
        rows = []
        for frame, templates in FRAMES.items():
            for t in templates:
                sentence = t.format(p=phrase, T=term[0].upper() + term[1:])
                rows += [(frame, sentence), (frame, f"{PROSE} {sentence}"), (frame, f"{sentence} {PROSE}")]
        out[term] = rows
    for term, frames in SCRIPTS.items():
        out[term] = [(frame, s) for frame, sentences in frames.items() for s in sentences]
        out[term] += [(frame, f"{PROSE} {s}") for frame, sentences in frames.items() for s in sentences]
    return out


def evaluate(model: Any, policy: Any, terms: Any, groups: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Per group: stories, share flagged (flagged or held), share held, and per label
    the share whose score reaches the label's flag threshold."""
    from services.moderation.screen import SCORE_LABELS, screen_texts

    rows = []
    for name, texts in groups.items():
        results = screen_texts(model, texts, terms, policy)
        n = len(results)
        bars = policy.flag
        row = {"group": name, "stories": n,
               "flag": sum(r.label in ("flagged", "held") for r in results) / n,
               "hold": sum(r.label == "held" for r in results) / n,
               "labels": {lab: sum(r.scores.get(lab, 0.0) >= bars[lab] for r in results) / n
                          for lab in SCORE_LABELS if lab in bars}}
        rows.append(row)
    return rows


def _pad(text: str, width: int) -> str:
    """`text` left-aligned in `width` terminal columns (CJK characters take two)."""
    import unicodedata

    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - shown)


def table(title: str, rows: list[dict[str, Any]]) -> str:
    labels = list(rows[0]["labels"]) if rows else []
    short = {lab: lab.replace("severe_toxicity", "severe").replace("identity_attack", "identity")
             .replace("sexual_explicit", "sexual") for lab in labels}
    width = max([len(title), *(len(_pad(r["group"], 0)) for r in rows)]) + 1
    head = f"{title:<{width}} {'n':>4} {'flag%':>6} {'hold%':>6} " + " ".join(f"{short[lab]:>9}" for lab in labels)
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{_pad(r['group'], width)} {r['stories']:>4} {100 * r['flag']:>6.1f} {100 * r['hold']:>6.1f} "
                     + " ".join(f"{100 * r['labels'][lab]:>9.1f}" for lab in labels))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flag", help="flag thresholds to try instead of SCREEN_FLAG's (threat=0.7,insult=0.6)")
    parser.add_argument("--hostile", action="append", default=[], help="another hostile text (repeatable)")
    parser.add_argument("--suspect", action="append", default=[], help="a suspect word-list term to include")
    parser.add_argument("--banned", action="append", default=[], help="a banned word-list term to include")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)

    from braided.settings import Settings
    from services.moderation.screen import ModelLoadError, Policy, ScreenModel, compile_terms
    from services.moderation.screen.policy import parse_thresholds

    settings = Settings.from_env()
    policy = Policy.from_settings(settings)
    if args.flag:
        policy = Policy(policy.hold, policy.flag | parse_thresholds("--flag", args.flag))
    try:
        model = ScreenModel.load(settings)
    except ModelLoadError as e:
        print(f"eval-screen: no model loaded ({e}); run `make models` or set DETOXIFY_CHECKPOINT", file=sys.stderr)
        return 2
    terms = compile_terms([(t, "suspect") for t in args.suspect] + [(t, "banned") for t in args.banned])
    corpus = benign_corpus()
    benign = evaluate(model, policy, terms, {term: [t for _, t in rows] for term, rows in corpus.items()})
    frames = evaluate(model, policy, terms, {f"all terms, {frame}": [t for rows in corpus.values()
                                                                    for f, t in rows if f == frame]
                                             for frame in FRAMES})
    hostile_texts = HOSTILE + args.hostile
    hostile = evaluate(model, policy, terms, {"hostile (each line)": hostile_texts,
                                              "hostile inside prose": [f"{PROSE} {h}" for h in hostile_texts]})
    if args.json:
        print(json.dumps({"model": model.name, "flag": policy.flag, "hold": policy.hold, "benign": benign,
                          "frames": frames, "hostile": hostile}, indent=1))
        return 0
    print(f"model {model.name} ({model.precision}); flag at {policy.flag}; hold at {policy.hold}")
    print("Share of stories, in %: flag% = flagged or held, hold% = held, then per label the share at or above "
          "its flag threshold.\n")
    print(table("benign, per term", benign))
    print()
    print(table("benign, per frame", frames))
    print()
    print(table("hostile", hostile))
    print("\nLook for: any benign term with flag% above a few percent (its speakers get a slower, more "
          "suspicious review), and hostile rows that are low (the screen misses what it is for).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
