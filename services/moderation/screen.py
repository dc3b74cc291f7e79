"""The machine screen: Detoxify over whole stories, plus community word lists.

It labels and orders; it never publishes, rejects or deletes. A person decides.

Loading follows Detoxify's own path (checkpoint dict → `get_model_and_tokenizer`),
with one change: when DETOXIFY_HF_CONFIG is set, the checkpoint's `model_type`
(a hub name such as `roberta-base`) is pointed at that folder, because Detoxify
calls `config_class.from_pretrained(model_type)` before it looks at the local
config, and offline that call fails.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.config import Settings
from shared.text import normalise_for_screen

log = logging.getLogger("braided.screen")

# The labels a moderator sees; other outputs of the `unbiased` head are identity
# mentions, which say nothing about harm and must never raise a story's severity.
LABELS = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack", "sexual_explicit")
_RENAME = {"toxic": "toxicity", "identity_hate": "identity_attack", "severe_toxic": "severe_toxicity"}

# Policy defaults (see README): a score at or above HOLD holds the story
# (quarantined, blurred for moderators); at or above FLAG flags it.
HOLD = {"severe_toxicity": 0.5, "threat": 0.7, "identity_attack": 0.7}
FLAG = {"toxicity": 0.5, "severe_toxicity": 0.2, "obscene": 0.6, "threat": 0.4, "insult": 0.5,
        "identity_attack": 0.4, "sexual_explicit": 0.6}
_RANK = {"clear": 0, "unscreened": 1, "flagged": 2, "held": 3}


class ModelLoadError(RuntimeError):
    """One line saying why no model could be loaded."""


@dataclass
class ScreenResult:
    label: str
    severity: float
    scores: dict[str, float] = field(default_factory=dict)
    passages: list[dict[str, Any]] = field(default_factory=list)
    term_hits: list[dict[str, Any]] = field(default_factory=list)
    model: str | None = None


# --- Loading --------------------------------------------------------------------------


def _checkpoint_dict(path: Path) -> dict[str, Any]:
    import torch

    if not path.exists():
        raise ModelLoadError(f"DETOXIFY_CHECKPOINT {path} does not exist")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # torch raises many types for a damaged file
        raise ModelLoadError(f"DETOXIFY_CHECKPOINT {path} is not a readable checkpoint ({type(e).__name__})") from e
    if not isinstance(loaded, dict) or "config" not in loaded or "state_dict" not in loaded:
        raise ModelLoadError(f"DETOXIFY_CHECKPOINT {path} is not in Detoxify's format (needs config and state_dict)")
    return loaded


def _download(settings: Settings) -> dict[str, Any]:
    import torch
    from detoxify.detoxify import MODEL_URLS

    cache = settings.data_dir / "models"
    cache.mkdir(parents=True, exist_ok=True)
    try:
        return torch.hub.load_state_dict_from_url(MODEL_URLS[settings.detoxify_model], model_dir=str(cache),
                                                  map_location="cpu", progress=True, weights_only=False)
    except Exception as e:
        raise ModelLoadError(f"could not download the {settings.detoxify_model!r} model ({type(e).__name__}: "
                             f"{str(e)[:120]}); set DETOXIFY_CHECKPOINT and DETOXIFY_HF_CONFIG for offline use") from e


class ScreenModel:
    """A loaded Detoxify model and tokenizer, scored over overlapping windows."""

    def __init__(self, model: Any, tokenizer: Any, class_names: list[str], name: str,
                 window: int = 512, overlap: int = 64) -> None:
        self.model, self.tokenizer, self.class_names, self.name = model, tokenizer, class_names, name
        self.model.eval()
        limit = getattr(tokenizer, "model_max_length", 512) or 512
        # transformers 5: without model_max_length the limit is 1e30 and truncation does nothing.
        self.window = min(window, limit if limit < 100_000 else 512)
        self.overlap = overlap

    @classmethod
    def load(cls, settings: Settings) -> ScreenModel:
        from detoxify.detoxify import get_model_and_tokenizer

        started = time.monotonic()
        hf_config = settings.detoxify_hf_config
        if settings.detoxify_checkpoint:
            loaded = _checkpoint_dict(Path(settings.detoxify_checkpoint))
        else:
            loaded = _download(settings)
        try:
            args = dict(loaded["config"]["arch"]["args"])
            classes = [_RENAME.get(c, c) for c in loaded["config"]["dataset"]["args"]["classes"]]
        except (KeyError, TypeError) as e:
            raise ModelLoadError(f"checkpoint config lacks {e}; is it a Detoxify checkpoint?") from e
        if hf_config:
            if not (Path(hf_config) / "config.json").exists():
                raise ModelLoadError(f"DETOXIFY_HF_CONFIG {hf_config} has no config.json")
            # Detoxify asks the hub for model_type's config first; point it at the local folder.
            args["model_type"] = str(hf_config)
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        else:
            os.environ.setdefault("HF_HOME", str(settings.data_dir / "hf"))
        try:
            model, tokenizer = get_model_and_tokenizer(**args, state_dict=loaded["state_dict"],
                                                       huggingface_config_path=hf_config)
        except Exception as e:
            raise ModelLoadError(f"the checkpoint does not fit its model ({type(e).__name__}: "
                                 f"{str(e).splitlines()[0][:160]})") from e
        n_out = model.config.num_labels
        if n_out < len(classes):
            raise ModelLoadError(f"the model has {n_out} outputs but the checkpoint names {len(classes)} classes")
        self = cls(model, tokenizer, classes, settings.detoxify_model)
        self.load_seconds = time.monotonic() - started
        return self

    # --- Scoring ------------------------------------------------------------------

    def windows(self, text: str) -> list[tuple[list[int], int, int]]:
        """Token windows over the whole text: (input ids, char start, char end).
        Windows overlap so a phrase cut at one edge is whole in the next."""
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False,
                             verbose=False)
        ids, offsets = enc["input_ids"], enc["offset_mapping"]
        # Every Detoxify tokenizer (BERT, RoBERTa, XLM-R, ALBERT) wraps a sequence
        # as CLS … SEP; transformers 5 dropped build_inputs_with_special_tokens.
        cls_id, sep_id = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        body = self.window - 2
        step = max(body - self.overlap, 1)
        out = []
        start = 0
        while True:
            chunk = ids[start:start + body]
            spans = offsets[start:start + body]
            full = [cls_id, *chunk, sep_id]
            out.append((full, spans[0][0] if spans else 0, spans[-1][1] if spans else 0))
            if start + body >= len(ids):
                break
            start += step
        return out

    def score_windows(self, windows: list[list[int]], batch_size: int = 8) -> list[dict[str, float]]:
        """Scores per window. Windows are sorted by length and batched, so short
        ones are not padded to the length of long ones."""
        import torch

        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        results: list[dict[str, float]] = [{} for _ in windows]
        pad = self.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for b in range(0, len(order), batch_size):
                idx = order[b:b + batch_size]
                width = max(len(windows[i]) for i in idx)
                ids = torch.full((len(idx), width), pad, dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for row, i in enumerate(idx):
                    ids[row, :len(windows[i])] = torch.tensor(windows[i])
                    mask[row, :len(windows[i])] = 1
                probs = torch.sigmoid(self.model(input_ids=ids, attention_mask=mask)[0]).tolist()
                for row, i in enumerate(idx):
                    results[i] = {c: probs[row][k] for k, c in enumerate(self.class_names) if c in LABELS}
        return results


# --- The screen: model + word lists + policy ---------------------------------------------


def compile_terms(terms: list[tuple[str, str]]) -> list[tuple[str, str, re.Pattern[str]]]:
    """Word-list terms as case-folded, word-bounded patterns."""
    out = []
    for term, kind in terms:
        folded = normalise_for_screen(term)[0].casefold().strip()
        if folded:
            out.append((term, kind, re.compile(r"(?<!\w)" + re.escape(folded) + r"(?!\w)")))
    return out


def screen_texts(model: ScreenModel | None, texts: list[str],
                 terms: list[tuple[str, str, re.Pattern[str]]]) -> list[ScreenResult]:
    """Screen several stories together: every window of every story is scored in
    one length-sorted pass. Blocking; call it off the event loop."""
    normals = [normalise_for_screen(t) for t in texts]
    all_windows: list[list[int]] = []
    owners: list[tuple[int, int, int]] = []  # story index, char start, char end (normalised)
    if model is not None:
        for n, (norm, _) in enumerate(normals):
            for ids, a, b in model.windows(norm):
                all_windows.append(ids)
                owners.append((n, a, b))
    window_scores = model.score_windows(all_windows) if model is not None else []

    results = []
    for n, (norm, back) in enumerate(normals):
        scores: dict[str, float] = {}
        passages: dict[str, dict[str, Any]] = {}
        for (owner, a, b), s in zip(owners, window_scores, strict=True):
            if owner != n:
                continue
            for label, value in s.items():
                if value > scores.get(label, -1.0):
                    scores[label] = value
                    passages[label] = {"label": label, "score": round(value, 4),
                                       "start": back[a] if a < len(back) else 0,
                                       "end": (back[b - 1] + 1) if 0 < b <= len(back) else 0}
        hits = []
        folded = norm.casefold()
        for term, kind, pattern in terms:
            for m in pattern.finditer(folded):
                # casefold can change lengths (ß → ss); map back approximately.
                s0 = back[min(m.start(), len(back) - 1)] if back else 0
                e0 = back[min(m.end(), len(back)) - 1] + 1 if back else 0
                hits.append({"term": term, "kind": kind, "start": s0, "end": e0})
        results.append(_label(model, scores, passages, hits))
    return results


def _label(model: ScreenModel | None, scores: dict[str, float], passages: dict[str, dict[str, Any]],
           hits: list[dict[str, Any]]) -> ScreenResult:
    top = max(scores.values(), default=0.0)
    if any(h["kind"] == "banned" for h in hits) or any(scores.get(k, 0) >= v for k, v in HOLD.items()):
        label = "held"
    elif any(h["kind"] == "suspect" for h in hits) or any(scores.get(k, 0) >= v for k, v in FLAG.items()):
        label = "flagged"
    elif model is None:
        label = "unscreened"
    else:
        label = "clear"
    fired = [p for lab, p in passages.items() if scores.get(lab, 0) >= FLAG.get(lab, 1.0)]
    return ScreenResult(
        label=label, severity=_RANK[label] + top,
        scores={k: round(v, 4) for k, v in scores.items()},
        passages=sorted(fired, key=lambda p: -p["score"]), term_hits=hits,
        model=model.name if model else None,
    )
