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
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.moderation import engines
from shared.config import SCREEN_LABELS, Settings
from shared.text import cluster_end, normalise_for_screen

log = logging.getLogger("braided.screen")

# The labels a moderator sees; other outputs of the `unbiased` head are identity
# mentions, which say nothing about harm and must never raise a story's severity.
LABELS = SCREEN_LABELS
_RENAME = {"toxic": "toxicity", "identity_hate": "identity_attack", "severe_toxic": "severe_toxicity"}

_RANK = {"clear": 0, "unscreened": 1, "flagged": 2, "held": 3}


@dataclass(frozen=True)
class Policy:
    """Thresholds per label (SCREEN_HOLD / SCREEN_FLAG; defaults in README): a score
    at or above `hold` holds the story (quarantined, blurred for moderators), at or
    above `flag` flags it. The policy only labels; a person decides."""

    hold: dict[str, float]
    flag: dict[str, float]

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(dict(settings.screen_hold), dict(settings.screen_flag))

    def bars(self) -> dict[str, float]:
        """The score at which a label is worth showing: its lower threshold."""
        return {lab: min(self.flag.get(lab, 1.0), self.hold.get(lab, 1.0)) for lab in LABELS}

    @classmethod
    def default(cls) -> Policy:
        return cls.from_settings(Settings.from_env({}))


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

# CPU features that make reduced precision pay (x86 /proc/cpuinfo flag names).
_INT8_FAST = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def resolve_precision(setting: str) -> str:
    """SCREEN_QUANTIZE → what the model runs in: `none` (fp32), `bf16`, `int8`
    (torch) or `onnx`, `onnx-int8` (ONNX Runtime). `auto` decides by CPU
    features, each rule from a measurement: see engines.auto_choice."""
    if setting != "auto":
        return setting
    return engines.auto_choice(_cpu_flags())



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
                             f"{_one_line(e, 120)}); set DETOXIFY_CHECKPOINT and DETOXIFY_HF_CONFIG for "
                             "offline use") from e


# The keyword arguments of detoxify.get_model_and_tokenizer besides the weights.
_ARCH_ARGS = ("model_type", "model_name", "tokenizer_name", "num_classes")


def _model_args(config: Any) -> tuple[dict[str, Any], list[str]]:
    """(arguments for Detoxify's model builder, the class names it reports) from a
    checkpoint's training config, read where Detoxify 0.5.4 reads them: the classes
    from `dataset.args.classes` (renamed as Detoxify renames them), the model from
    `arch.args`. The published `unbiased` and `multilingual` configs name 7 classes
    for 16 outputs; the other 9 are identity mentions (`identity_classes`), which
    Detoxify does not report and the screen never scores. Older configs in
    Detoxify's repository keep `classes` under `arch.args`; those are accepted too."""
    try:
        arch = dict(config["arch"]["args"])
        dataset = (config.get("dataset") or {}).get("args") or {}
        classes = dataset.get("classes") or arch.get("classes")
        args = {k: arch[k] for k in _ARCH_ARGS}
    except (KeyError, TypeError, AttributeError) as e:
        raise ModelLoadError(f"the checkpoint's config lacks {e}; is it a Detoxify checkpoint?") from e
    if not classes or not all(isinstance(c, str) for c in classes):
        raise ModelLoadError("the checkpoint's config names no classes (dataset.args.classes); "
                             "is it a Detoxify checkpoint?")
    return args, [_RENAME.get(c, c) for c in classes]


def _one_line(e: BaseException, limit: int) -> str:
    return " ".join(str(e).split())[:limit]


def _check_weights(model: Any, state_dict: dict[str, Any]) -> None:
    """transformers only logs missing or unexpected weights and would run a model
    with random layers; a screen must refuse such a checkpoint."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict and not k.endswith("position_ids")]
    unexpected = [k for k in state_dict if k not in expected and not k.endswith("position_ids")]
    wrong = [k for k in expected if k in state_dict and tuple(state_dict[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or wrong:
        parts = [f"{len(v)} {what} (e.g. {v[0]})" for what, v in
                 (("missing weights", missing), ("unexpected weights", unexpected), ("wrong shapes", wrong)) if v]
        raise ModelLoadError("the checkpoint does not match its model config: " + "; ".join(parts))


def fetch_model(settings: Settings) -> str:
    """Download the configured model (checkpoint, config, tokenizer) into the caches
    under DATA_DIR and check that it loads; for air-gapped installs, run where there
    is a network and copy DATA_DIR/models and DATA_DIR/hf. Returns what it loaded."""
    if settings.detoxify_checkpoint:
        raise ModelLoadError("DETOXIFY_CHECKPOINT is set: there is nothing to download")
    model = ScreenModel.load(settings)
    return f"{model.name} ready ({model.load_seconds:.1f} s) in {settings.data_dir / 'models'}"


class ScreenModel:
    """A loaded Detoxify model and tokenizer, scored over overlapping windows."""

    def __init__(self, model: Any, tokenizer: Any, class_names: list[str], name: str,
                 window: int = 512, overlap: int = 32) -> None:
        self.model, self.tokenizer, self.class_names, self.name = model, tokenizer, class_names, name
        self.model.eval()
        limit = getattr(tokenizer, "model_max_length", 512) or 512
        # transformers 5: without model_max_length the limit is 1e30 and truncation does nothing.
        self.window = min(window, limit if limit < 100_000 else 512)
        self.overlap = max(0, min(overlap, (self.window - 2) // 2))
        self.precision = "fp32"  # or bf16 / int8, after load()
        self.load_seconds = 0.0
        # Which model outputs are moderation labels (the rest are identity mentions).
        self._label_columns = [(k, c) for k, c in enumerate(class_names) if c in LABELS]

    @classmethod
    def load(cls, settings: Settings) -> ScreenModel:
        from detoxify.detoxify import get_model_and_tokenizer

        started = time.monotonic()
        hf_config = settings.detoxify_hf_config
        if settings.detoxify_checkpoint:
            loaded = _checkpoint_dict(Path(settings.detoxify_checkpoint))
        else:
            loaded = _download(settings)
        args, classes = _model_args(loaded["config"])
        if hf_config:
            if not (Path(hf_config) / "config.json").exists():
                raise ModelLoadError(f"DETOXIFY_HF_CONFIG {hf_config} has no config.json")
            # Detoxify asks the hub for model_type's config first; point it at the local folder.
            args["model_type"] = str(hf_config)
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        else:
            os.environ.setdefault("HF_HOME", str(settings.data_dir / "hf"))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # transformers' notes about unused weights; checked below
                model, tokenizer = get_model_and_tokenizer(**args, state_dict=loaded["state_dict"],
                                                           huggingface_config_path=hf_config)
        except Exception as e:
            first = (str(e).strip().splitlines() or [""])[0]
            raise ModelLoadError(f"the checkpoint does not fit its model config ({type(e).__name__}: "
                                 f"{first[:160]})") from e
        _check_weights(model, loaded["state_dict"])
        n_out = model.config.num_labels
        if n_out < len(classes):
            # More outputs than classes is Detoxify's normal shape (the bias models'
            # identity outputs); fewer would leave a named class without a score.
            raise ModelLoadError(f"the model has {n_out} outputs but the checkpoint names {len(classes)} classes")
        del loaded  # the checkpoint's copy of the weights: half the peak memory
        self = cls(model, tokenizer, classes, settings.detoxify_model, overlap=settings.screen_window_overlap)
        del model  # held by self alone: an engine that replaces it frees it
        precision = resolve_precision(settings.screen_quantize)
        if precision in engines.ONNX_ENGINES:
            precision = engines.use_onnx(self, precision, settings, _cpu_flags())
        if precision == "int8":
            self.quantize_int8()
        elif precision == "bf16":
            self.to_bf16()
        self.load_seconds = time.monotonic() - started
        return self

    @property
    def quantized(self) -> bool:
        return self.precision == "int8"

    def quantize_int8(self) -> None:
        """Dynamic int8 quantization of the Linear layers (weights int8, activations
        quantized per batch), small score drift (`make bench-screen` reports it).
        On CPUs with VNNI or AMX the oneDNN kernels are used: measured here 1.6x
        faster than torch's default x86/fbgemm ones (0.23 vs 0.39 ms per token)."""
        import torch

        if "onednn" in torch.backends.quantized.supported_engines and _cpu_flags() & _INT8_FAST:
            # The engine in force when the weights are packed is the one they run on.
            torch.backends.quantized.engine = "onednn"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch 2.13 suggests torchao; the eager API still works
            # In place: a copy would hold the fp32 weights twice at the peak.
            self.model = torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8,
                                                                inplace=True)
        self.precision = "int8"

    def to_bf16(self) -> None:
        """bfloat16 weights and activations. With AMX (Sapphire Rapids and later)
        measured 4x faster than fp32 per token; with AVX512-BF16 alone (AMD Zen 4)
        about 2x; with neither it is slower than fp32."""
        import torch

        if not _cpu_flags() & {"amx_bf16", "avx512_bf16"}:
            log.warning("SCREEN_QUANTIZE=bf16 on a CPU without AMX-BF16 or AVX512-BF16: expect it to be slower "
                        "than fp32")
        self.model = self.model.to(torch.bfloat16)
        self.precision = "bf16"

    # --- Scoring ------------------------------------------------------------------

    def windows(self, text: str) -> list[tuple[list[int], int, int]]:
        """Token windows over the whole text: (input ids, char start, char end).

        A text longer than one window gets the fewest windows in which neighbours
        share at least `overlap` tokens, all of one length (so they batch without
        padding): any passage up to `overlap` tokens lies whole in some window, and
        the tokens scored are len + (n-1)*overlap, not n*window."""
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False,
                             verbose=False)
        ids, offsets = enc["input_ids"], enc["offset_mapping"]
        # Every Detoxify tokenizer (BERT, RoBERTa, XLM-R, ALBERT) wraps a sequence
        # as CLS … SEP; transformers 5 dropped build_inputs_with_special_tokens.
        cls_id, sep_id = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        if not ids:
            return [([cls_id, sep_id], 0, 0)]
        body, ov, total = self.window - 2, self.overlap, len(ids)
        n = 1 if total <= body else -(-(total - ov) // (body - ov))
        length = -(-(total + (n - 1) * ov) // n)  # ceil; <= body
        out = []
        for k in range(n):
            # Even spacing; the last window ends exactly at the text's end.
            start = 0 if n == 1 else round(k * (total - length) / (n - 1))
            chunk, spans = ids[start:start + length], offsets[start:start + length]
            out.append(([cls_id, *chunk, sep_id], spans[0][0], spans[-1][1]))
        return out

    def narrow(self, text: str, a: int, b: int, labels: list[str], bars: dict[str, float],
               size: int = 64, step: int = 48) -> dict[str, tuple[int, int]]:
        """Within text[a:b] (a window that fired), the stretch of about `size` tokens
        that fires each label on its own, as offsets into `text`. Labels that need
        the whole window's context keep the window. Costs about one window, and
        only for stories that crossed a threshold."""
        enc = self.tokenizer(text[a:b], add_special_tokens=False, return_offsets_mapping=True, truncation=False,
                             verbose=False)
        ids, offsets = enc["input_ids"], enc["offset_mapping"]
        if len(ids) <= size:
            return {}
        starts = list(range(0, max(len(ids) - size, 0) + step, step))
        starts = [s for s in starts if s < len(ids)]
        cls_id, sep_id = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        scores = self.score_windows([[cls_id, *ids[s:s + size], sep_id] for s in starts])
        out = {}
        for label in labels:
            k = max(range(len(starts)), key=lambda j: scores[j].get(label, 0.0))
            if scores[k].get(label, 0.0) >= bars.get(label, 1.0):
                span = offsets[starts[k]:starts[k] + size]
                out[label] = (a + span[0][0], a + span[-1][1])
        return out

    def score_windows(self, windows: list[list[int]], token_budget: int = 4096,
                      on_scored: Callable[[list[int], list[dict[str, float]]], None] | None = None,
                      ) -> list[dict[str, float]]:
        """Scores per window. Windows are sorted by length and batched up to
        `token_budget` padded tokens: short ones are neither padded to the length
        of long ones nor held back by them (they are scored first), and many short
        ones share one forward pass, which is where a CPU gains most.
        `on_scored(indices, scores)` is called after each batch."""
        import torch

        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        results: list[dict[str, float]] = [{} for _ in windows]
        pad = self.tokenizer.pad_token_id or 0
        b = 0
        with torch.inference_mode():
            while b < len(order):
                # Sorted ascending: the widest window of a batch is its last one.
                e = b + 1
                while e < len(order) and (e - b + 1) * len(windows[order[e]]) <= token_budget:
                    e += 1
                idx = order[b:e]
                b = e
                width = len(windows[idx[-1]])
                ids = torch.full((len(idx), width), pad, dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for row, i in enumerate(idx):
                    ids[row, :len(windows[i])] = torch.tensor(windows[i])
                    mask[row, :len(windows[i])] = 1
                probs = torch.sigmoid(self.model(input_ids=ids, attention_mask=mask)[0].float()).tolist()
                for row, i in enumerate(idx):
                    results[i] = {c: probs[row][k] for k, c in self._label_columns}
                if on_scored is not None:
                    on_scored(idx, [results[i] for i in idx])
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
                 terms: list[tuple[str, str, re.Pattern[str]]], policy: Policy | None = None,
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
            windows: list[tuple[tuple[int, int, int], dict[str, float]]],
            terms: list[tuple[str, str, re.Pattern[str]]]) -> ScreenResult:
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
    passages = {}
    for label in fired:
        a, b = spans[label]
        passages[label] = {"label": label, "score": round(scores[label], 4),
                           "start": back[a] if a < len(back) else 0,
                           "end": cluster_end(text, back[b - 1] + 1) if 0 < b <= len(back) else 0}
    hits = []
    if terms:
        # Case-fold per character, keeping the map to display offsets (ß → ss
        # changes lengths, so folding the whole string would shift every offset).
        chars: list[str] = []
        fold_back: list[int] = []
        for ch, at in zip(norm, back, strict=True):
            for c in ch.casefold():
                chars.append(c)
                fold_back.append(at)
        folded = "".join(chars)
        for term, kind, pattern in terms:
            for m in pattern.finditer(folded):
                if m.end() > m.start():
                    hits.append({"term": term, "kind": kind, "start": fold_back[m.start()],
                                 "end": cluster_end(text, fold_back[m.end() - 1] + 1)})
    return _label(model, policy, scores, passages, hits)


def _label(model: ScreenModel | None, policy: Policy, scores: dict[str, float],
           passages: dict[str, dict[str, Any]], hits: list[dict[str, Any]]) -> ScreenResult:
    top = max(scores.values(), default=0.0)
    if any(h["kind"] == "banned" for h in hits) or any(scores.get(k, 0) >= v for k, v in policy.hold.items()):
        label = "held"
    elif any(h["kind"] == "suspect" for h in hits) or any(scores.get(k, 0) >= v for k, v in policy.flag.items()):
        label = "flagged"
    elif model is None:
        label = "unscreened"
    else:
        label = "clear"
    return ScreenResult(
        label=label, severity=_RANK[label] + top,
        scores={k: round(v, 4) for k, v in scores.items()},
        passages=sorted(passages.values(), key=lambda p: -p["score"]), term_hits=hits,
        model=model.name if model else None,
    )
