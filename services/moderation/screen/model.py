"""A loaded Detoxify model, scored over overlapping token windows so that a long
story is read whole (a model that reads only the first 512 tokens is not a screen)."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from typing import Any

from services.moderation import engines
from services.moderation.screen.loading import (
    _INT8_FAST,
    ModelLoadError,
    _cpu_flags,
    load_detoxify,
    resolve_precision,
)
from services.moderation.screen.policy import SCORE_LABELS
from shared.config import Settings

log = logging.getLogger("braided.screen")


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
        self.precision = "fp32"  # or bf16 / int8 / onnx / onnx-int8, after load()
        self.load_seconds = 0.0
        # Which model outputs are moderation labels (the rest are identity mentions).
        self._label_columns = [(k, c) for k, c in enumerate(class_names) if c in SCORE_LABELS]

    @classmethod
    def load(cls, settings: Settings) -> ScreenModel:
        """The configured model, in the precision SCREEN_QUANTIZE asks for."""
        started = time.monotonic()
        model, tokenizer, classes = load_detoxify(settings)
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
