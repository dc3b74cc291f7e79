"""The screen's policy: which scores and word-list hits make a story `held` or
`flagged`. It only labels and orders the queue; a person decides."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.config import ConfigError, parse_value

# The score labels a moderator sees; other outputs of the `unbiased` head are identity
# mentions, which say nothing about harm and must never raise a story's severity.
SCORE_LABELS = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack", "sexual_explicit")

# What the screen files a story as (the labels of the queue's tabs), and each one's
# rank in the queue's severity order.
OUTCOMES = ("clear", "flagged", "held", "unscreened")
_RANK = {"clear": 0, "unscreened": 1, "flagged": 2, "held": 3}

DEFAULT_HOLD = "severe_toxicity=0.5,threat=0.7,identity_attack=0.7"
DEFAULT_FLAG = ("toxicity=0.5,severe_toxicity=0.2,obscene=0.6,threat=0.4,insult=0.5,identity_attack=0.4,"
                "sexual_explicit=0.6")


def thresholds(raw: str | None) -> dict[str, float]:
    """`threat=0.7,insult=0.5` → {"threat": 0.7, "insult": 0.5}; `none` → {}."""
    raw = raw or "none"
    if raw.strip().lower() == "none":
        return {}
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        label, eq, value = part.partition("=")
        label = label.strip()
        if not eq or label not in SCORE_LABELS:
            raise ConfigError(f"must look like threat=0.7,insult=0.5 with labels from "
                              f"{', '.join(SCORE_LABELS)}; got {part!r}")
        try:
            out[label] = float(value)
        except ValueError:
            raise ConfigError(f"{label} needs a number between 0 and 1, got {value.strip()!r}") from None
        if not 0 <= out[label] <= 1:
            raise ConfigError(f"{label} needs a number between 0 and 1, got {value.strip()!r}")
    return out


def parse_thresholds(name: str, raw: str) -> dict[str, float]:
    """`thresholds(raw)`, its errors naming the setting `name`."""
    return parse_value(name, thresholds, raw)


@dataclass(frozen=True)
class Policy:
    """Thresholds per label (SCREEN_HOLD / SCREEN_FLAG; defaults in README): a score
    at or above `hold` holds the story (quarantined, blurred for moderators), at or
    above `flag` flags it."""

    hold: dict[str, float]
    flag: dict[str, float]

    @classmethod
    def from_settings(cls, settings: Any) -> Policy:
        return cls(dict(settings.screen_hold), dict(settings.screen_flag))

    @classmethod
    def default(cls) -> Policy:
        return cls(thresholds(DEFAULT_HOLD), thresholds(DEFAULT_FLAG))

    def bars(self) -> dict[str, float]:
        """The score at which a label is worth showing: its lower threshold."""
        return {lab: min(self.flag.get(lab, 1.0), self.hold.get(lab, 1.0)) for lab in SCORE_LABELS}

    def outcome(self, scores: dict[str, float], hits: list[dict[str, Any]], screened: bool) -> str:
        """held, flagged, clear or (without a model) unscreened. A banned term holds and
        a suspect term flags, with or without a model."""
        if any(h["kind"] == "banned" for h in hits) or any(scores.get(k, 0) >= v for k, v in self.hold.items()):
            return "held"
        if any(h["kind"] == "suspect" for h in hits) or any(scores.get(k, 0) >= v for k, v in self.flag.items()):
            return "flagged"
        return "clear" if screened else "unscreened"


@dataclass
class ScreenResult:
    label: str
    severity: float
    scores: dict[str, float] = field(default_factory=dict)
    passages: list[dict[str, Any]] = field(default_factory=list)
    term_hits: list[dict[str, Any]] = field(default_factory=list)
    model: str | None = None


def result(policy: Policy, model_name: str | None, scores: dict[str, float],
           passages: list[dict[str, Any]], hits: list[dict[str, Any]]) -> ScreenResult:
    """The labelled result; severity orders the queue: outcome rank, then top score."""
    label = policy.outcome(scores, hits, screened=model_name is not None)
    return ScreenResult(
        label=label, severity=_RANK[label] + max(scores.values(), default=0.0),
        scores={k: round(v, 4) for k, v in scores.items()},
        passages=sorted(passages, key=lambda p: -p["score"]), term_hits=hits, model=model_name,
    )
