"""Which engine runs the screen model, and the ONNX Runtime one.

`SCREEN_QUANTIZE=auto` picks by CPU feature set, each rule from a measurement
(`make bench-screen`; figures in the README):

- AMX (amx_bf16, Sapphire Rapids and later): torch bf16 — measured 4x fp32 per
  token there. ONNX Runtime int8 was not measurable on an AMX CPU, so it is not
  chosen there without a figure.
- VNNI without AMX (avx512_vnni or avx_vnni: Cascade Lake, Ice Lake, AMD Zen 4):
  ONNX Runtime int8 — measured on Zen 4 (which also has avx512_bf16) the fastest
  there, ahead of torch int8 and bf16, at about 3x torch fp32 per token.
- neither: torch fp32, the model as published (nothing else measured there).

The ONNX model is exported once per checkpoint (the key is a hash of the weights
and model config, plus the versions that shape the file) and kept under
DATA_DIR/onnx: later loads take seconds, where exporting took 20-25 s and several GB
(`make bench-screen` prints both).
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger("braided.screen")

TORCH_PRECISIONS = ("none", "bf16", "int8")
ONNX_ENGINES = ("onnx", "onnx-int8")
# Bumped whenever the export recipe below changes: old cached files are then ignored.
_RECIPE = "1"

# Weights above this size are exported in a process of its own (see _build).
CHILD_ABOVE_BYTES = 20_000_000
_AMX = frozenset({"amx_bf16"})
_VNNI = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})


def auto_choice(flags: set[str]) -> str:
    """What `SCREEN_QUANTIZE=auto` runs on a CPU with these /proc/cpuinfo flags."""
    if flags & _AMX:
        return "bf16"
    if flags & _VNNI:
        return "onnx-int8"
    return "none"


def fallback(flags: set[str]) -> str:
    """The torch precision `auto` falls back to when ONNX Runtime cannot run a
    model: int8 (oneDNN kernels) on a VNNI CPU, measured faster than fp32 there."""
    return "int8" if flags & _VNNI else "none"


class OnnxModel:
    """An ONNX Runtime session behind the call the screen makes of a transformers
    model: `model(input_ids=…, attention_mask=…)[0]` gives the logits."""

    def __init__(self, session: Any, path: Path) -> None:
        self.session, self.path = session, path
        self._inputs = {i.name for i in session.get_inputs()}

    def eval(self) -> OnnxModel:
        return self

    def __call__(self, input_ids: Any, attention_mask: Any) -> tuple[Any]:
        import torch

        feed = {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()}
        logits = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return (torch.from_numpy(logits),)


def checkpoint_key(model: Any) -> str:
    """A hash of what decides the exported file: weights, model config, the
    versions of torch, transformers and ONNX Runtime, and the recipe."""
    import onnxruntime
    import torch
    import transformers

    h = hashlib.blake2b(digest_size=16)
    h.update(f"{_RECIPE} {torch.__version__} {transformers.__version__} {onnxruntime.__version__}".encode())
    h.update(model.config.to_json_string(use_diff=False).encode())
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(str(tuple(tensor.shape)).encode())
        h.update(tensor.detach().contiguous().view(torch.uint8).numpy().data if tensor.numel() else b"")
    return h.hexdigest()


def _export(model: Any, folder: Path, engine: str) -> Path:
    """torch → ONNX (attention written out, so ONNX Runtime's transformer
    optimizer fuses it) → fused graph → int8 weights for `onnx-int8`."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    raw, fused = folder / "raw.onnx", folder / "fused.onnx"
    previous = model.config._attn_implementation
    ids = torch.tensor([[0, 5, 6, 2], [0, 7, 2, 1]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    try:
        # SDPA exports as one opaque op the fusions do not recognise.
        model.set_attn_implementation("eager")
        with warnings.catch_warnings(), torch.inference_mode():
            # The TorchScript exporter: the torch.export one needs onnxscript and its
            # graphs are not fused by ONNX Runtime's BERT optimizer (tried).
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (ids, mask), str(raw), input_names=["input_ids", "attention_mask"],
                              output_names=["logits"], opset_version=17, dynamo=False,
                              dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                            "attention_mask": {0: "batch", 1: "tokens"}, "logits": {0: "batch"}})
    finally:
        model.set_attn_implementation(previous)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(("fusion_", "onnx_model")):  # the optimizer's step-by-step INFO lines
            logging.getLogger(name).setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = optimizer.optimize_model(str(raw), model_type="bert", opt_level=0,
                                       num_heads=model.config.num_attention_heads,
                                       hidden_size=model.config.hidden_size)
    opt.save_model_to_file(str(fused))
    raw.unlink()
    if engine == "onnx":
        return fused
    out = folder / "int8.onnx"
    logging.getLogger().disabled, was = True, logging.getLogger().disabled  # its advice to "pre-process"
    try:
        quantize_dynamic(str(fused), str(out), weight_type=QuantType.QInt8,
                         # The fused ops have no type in ONNX shape inference; they are float.
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        logging.getLogger().disabled = was
    return out


def _export_in_child(settings: Any, engine: str, path: Path) -> None:
    """Export in a process of its own: exporter, optimizer and quantizer peak at
    about 5 GB for roberta-base and leave about 4 GB resident (measured by
    `make bench-screen`), which a long-lived worker must not keep."""
    env = {**os.environ, "DETOXIFY_MODEL": settings.detoxify_model, "DATA_DIR": str(settings.data_dir),
           "SCREEN_QUANTIZE": "none"}
    for name, value in (("DETOXIFY_CHECKPOINT", settings.detoxify_checkpoint),
                        ("DETOXIFY_HF_CONFIG", settings.detoxify_hf_config)):
        if value:
            env[name] = str(value)
        else:
            env.pop(name, None)
    # The child's entry point lives in braided/ (it needs every service's
    # settings); importing braided from here would close an import cycle.
    done = subprocess.run([sys.executable, "-m", "braided.onnx_export", engine, str(path)], env=env,
                          capture_output=True,
                          text=True, timeout=3600)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()] or [f"exit {done.returncode}"]
        raise RuntimeError(f"export failed: {lines[-1].strip()[:200]}")


def export_to(model: Any, engine: str, path: Path) -> None:
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as tmp:
        built = _export(model, Path(tmp), engine)
        # Atomic: a second worker exporting at the same time writes the same bytes.
        os.replace(built, path)


def _build(model: Any, settings: Any, engine: str, path: Path) -> None:
    """Export `model` to `path`: a model of real size in a process of its own,
    a small one (the tests' tiny models) here, where its cost is small and a
    new process would cost more than the export."""
    size = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    if size > CHILD_ABOVE_BYTES:
        _export_in_child(settings, engine, path)
    else:
        export_to(model, engine, path)


def onnx_model(model: Any, engine: str, settings: Any, threads: int) -> OnnxModel:
    """`model` as an ONNX Runtime session, exported into DATA_DIR/onnx on first use."""
    import onnxruntime

    cache = settings.data_dir / "onnx"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{checkpoint_key(model)}-{engine}.onnx"
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # its notes about folded initialisers are noise here
    if path.exists():
        try:
            return OnnxModel(onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]),
                             path)
        except Exception as e:  # a cached file cut short (disk full, killed mid-copy): export again
            log.warning("screen: cached ONNX model %s unreadable (%s); exporting again", path, type(e).__name__)
            path.unlink(missing_ok=True)
    started = time.monotonic()
    _build(model, settings, engine, path)
    log.info("screen: exported the model for ONNX Runtime (%s) in %.0f s to %s", engine,
             time.monotonic() - started, path)
    return OnnxModel(onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]), path)


def use_onnx(screen: Any, engine: str, settings: Any, flags: set[str]) -> str:
    """Swap `screen`'s torch model for ONNX Runtime `engine`. Returns the torch
    precision still to apply: none when ONNX Runtime runs, or, when it cannot
    and `auto` chose it, the torch fallback for this CPU. Set explicitly, an
    engine that cannot run is a ModelLoadError (one line)."""
    import torch

    from services.moderation.screen.errors import ModelLoadError

    started = time.monotonic()
    try:
        screen.model = onnx_model(screen.model, engine, settings, torch.get_num_threads())
    except Exception as e:
        reason = f"ONNX Runtime cannot run this model ({type(e).__name__}: {' '.join(str(e).split())[:160]})"
        if settings.screen_quantize != "auto":
            raise ModelLoadError(f"SCREEN_QUANTIZE={engine}: {reason}") from e
        chosen = fallback(flags)
        log.warning("screen: %s; running torch %s instead", reason, chosen)
        return chosen
    screen.precision = engine
    log.info("screen: ONNX Runtime %s ready in %.1f s", engine, time.monotonic() - started)
    return engine
