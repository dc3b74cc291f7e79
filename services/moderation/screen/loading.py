"""Loading Detoxify's model offline or from its published checkpoints.

Loading follows Detoxify's own path (checkpoint dict → `get_model_and_tokenizer`),
with one change: when DETOXIFY_HF_CONFIG is set, the checkpoint's `model_type`
(a hub name such as `roberta-base`) is pointed at that folder, because Detoxify
calls `config_class.from_pretrained(model_type)` before it looks at the local
config, and offline that call fails. Every refusal is one line (ModelLoadError).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from services.moderation.screen.errors import ModelLoadError
from shared.config import Settings

DETOXIFY_MODELS = ("original", "unbiased", "multilingual", "original-small", "unbiased-small")
PRECISIONS = ("auto", "none", "bf16", "int8", "onnx", "onnx-int8")
_RENAME = {"toxic": "toxicity", "identity_hate": "identity_attack", "severe_toxic": "severe_toxicity"}


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
    from services.moderation import engines

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


def load_detoxify(settings: Settings) -> tuple[Any, Any, list[str]]:
    """(model, tokenizer, class names) of the configured checkpoint, checked: a
    checkpoint whose weights do not fit its config is refused, not run with random
    layers."""
    from detoxify.detoxify import get_model_and_tokenizer

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
    # Returning drops the checkpoint's copy of the weights: half the peak memory.
    return model, tokenizer, classes
