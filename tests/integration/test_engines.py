"""The screen's engines: which one `auto` picks on each kind of CPU, and the
ONNX Runtime engines (exported once per checkpoint, cached under DATA_DIR)
behind the same ScreenModel interface. The models are the tiny trained ones
(the marker word fires, the identity story stays clear); the export, the
optimizer and the int8 quantization are ONNX Runtime's own."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from braided.settings import Settings
from services.moderation import engines
from services.moderation.checkpoints import MODELS
from services.moderation.screen import ModelLoadError, ScreenModel, loading, screen_texts
from services.moderation.screen import model as screen_model
from shared.config import ConfigError
from tests.conftest import MARKER
from tests.integration.test_screen import IDENTITY_STORY, story

AMX = {"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8", "amx_tile"}  # Sapphire Rapids
VNNI = {"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}  # AMD Zen 4, where the figures were measured
AVX_VNNI = {"avx2", "avx_vnni"}  # Alder Lake cores: VNNI on 256-bit registers
NEITHER = {"avx2", "avx512f"}  # Skylake-SP


def settings(ckpt: Path, hf: Path, data: Path, quantize: str) -> Settings:
    return Settings.from_env({"DETOXIFY_CHECKPOINT": str(ckpt), "DETOXIFY_HF_CONFIG": str(hf),
                              "DATA_DIR": str(data), "SCREEN_QUANTIZE": quantize})


@pytest.mark.parametrize(("flags", "choice"), [(AMX, "bf16"), (VNNI, "onnx-int8"), (AVX_VNNI, "onnx-int8"),
                                                (NEITHER, "none"), (set(), "none")])
def test_auto_picks_by_cpu_features(monkeypatch: pytest.MonkeyPatch, flags: set[str], choice: str) -> None:
    monkeypatch.setattr(loading, "_cpu_flags", lambda: flags)
    assert loading.resolve_precision("auto") == choice
    for explicit in ("none", "bf16", "int8", "onnx", "onnx-int8"):
        assert loading.resolve_precision(explicit) == explicit


def test_engine_setting_is_checked() -> None:
    assert Settings.from_env({"SCREEN_QUANTIZE": "ONNX-INT8"}).screen_quantize == "onnx-int8"
    with pytest.raises(ConfigError, match="SCREEN_QUANTIZE"):
        Settings.from_env({"SCREEN_QUANTIZE": "onnx-bf16"})


@pytest.mark.parametrize("engine", engines.ONNX_ENGINES)
def test_onnx_engine_screens_like_fp32(marker_model: tuple[Path, Path], tmp_path: Path, engine: str) -> None:
    texts = [f"{story(150, seed=k)}{' ' + MARKER if k % 2 else ''}" for k in range(4)]
    texts += [IDENTITY_STORY, f"{story(2000)} and then {MARKER}."]
    fp32 = screen_texts(ScreenModel.load(settings(*marker_model, tmp_path, "none")), texts, [])
    m = ScreenModel.load(settings(*marker_model, tmp_path, engine))
    assert m.precision == engine and isinstance(m.model, engines.OnnxModel)
    ours = screen_texts(m, texts, [])
    assert [r.label for r in ours] == [r.label for r in fp32] == ["clear", "held"] * 2 + ["clear", "held"]
    drift = max(abs(a.scores[k] - b.scores[k]) for a, b in zip(fp32, ours, strict=True) for k in a.scores)
    assert drift < 0.05, drift
    # narrow() scores short windows through the same engine: the passage is the marker's.
    end = ours[-1].passages[0]
    assert MARKER in texts[-1][end["start"]:end["end"]] and end["end"] - end["start"] < 600


def test_export_is_paid_once_per_checkpoint_content(marker_model: tuple[Path, Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ckpt, hf = marker_model
    first = ScreenModel.load(settings(ckpt, hf, tmp_path, "onnx-int8"))
    assert [p.name for p in (tmp_path / "onnx").iterdir()] == [first.model.path.name]  # no export leftovers

    def no_export(*args: object) -> Path:
        raise AssertionError("exported again")

    monkeypatch.setattr(engines, "_build", no_export)
    shutil.copy(ckpt, tmp_path / "renamed.ckpt")  # the same weights under another name: the same file
    again = ScreenModel.load(settings(tmp_path / "renamed.ckpt", hf, tmp_path, "onnx-int8"))
    assert again.model.path == first.model.path
    monkeypatch.undo()
    other = ScreenModel.load(settings(ckpt, hf, tmp_path, "onnx"))  # another engine: its own file
    assert other.model.path != first.model.path


def test_a_different_checkpoint_gets_its_own_export(marker_model: tuple[Path, Path], tmp_path: Path) -> None:
    from services.moderation.checkpoints import train_marker_model

    # Same architecture and config, other weights (training is deterministic
    # per seed, so another seed is what makes the weights differ).
    other = train_marker_model(tmp_path / "other", MARKER, steps=20, seed=8)
    a = ScreenModel.load(settings(*marker_model, tmp_path, "onnx-int8"))
    b = ScreenModel.load(settings(*other, tmp_path, "onnx-int8"))
    assert a.model.path != b.model.path


def test_a_model_of_real_size_is_exported_in_a_process_of_its_own(
        marker_model: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exporting roberta-base peaks near 5 GB and left 4 GB resident in the
    process that did it: the worker hands it to a child process, which loads
    the checkpoint itself and writes the file where the worker looks for it."""
    monkeypatch.setattr(engines, "CHILD_ABOVE_BYTES", 0)

    def not_here(*args: object) -> Path:
        raise AssertionError("exported in the worker's process")

    monkeypatch.setattr(engines, "_export", not_here)  # the child process is not patched
    m = ScreenModel.load(settings(*marker_model, tmp_path, "onnx-int8"))
    assert m.precision == "onnx-int8" and m.model.path.exists()
    assert screen_texts(m, [f"{story(30)} {MARKER}"], [])[0].label == "held"
    # A child that fails (here: it reads the environment, where a setting is bad) says why, in one line.
    monkeypatch.setenv("SCREEN_THREADS", "lots")
    with pytest.raises(ModelLoadError) as e:
        ScreenModel.load(settings(*marker_model, tmp_path, "onnx"))
    assert "\n" not in str(e.value) and str(e.value).startswith("SCREEN_QUANTIZE=onnx: ")
    assert "SCREEN_THREADS" in str(e.value)


def test_a_damaged_cached_file_is_exported_again(marker_model: tuple[Path, Path], tmp_path: Path) -> None:
    path = ScreenModel.load(settings(*marker_model, tmp_path, "onnx-int8")).model.path
    path.write_bytes(path.read_bytes()[:1000])  # cut short, as by a full disk
    m = ScreenModel.load(settings(*marker_model, tmp_path, "onnx-int8"))
    assert screen_texts(m, [f"{story(30)} {MARKER}"], [])[0].label == "held"


def test_an_engine_that_cannot_run_is_one_line(marker_model: tuple[Path, Path], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: object) -> Path:
        raise RuntimeError("Unsupported ONNX opset\nsecond line of a long trace")

    monkeypatch.setattr(engines, "_build", broken)
    with pytest.raises(ModelLoadError) as e:
        ScreenModel.load(settings(*marker_model, tmp_path, "onnx-int8"))
    assert "\n" not in str(e.value) and len(str(e.value)) < 300
    assert str(e.value).startswith("SCREEN_QUANTIZE=onnx-int8: ONNX Runtime cannot run this model")
    # Chosen by `auto`, it falls back to this CPU's best torch engine and says so.
    for module in (loading, screen_model):
        monkeypatch.setattr(module, "_cpu_flags", lambda: VNNI)
    with caplog.at_level(logging.WARNING, logger="braided.screen"):
        m = ScreenModel.load(settings(*marker_model, tmp_path, "auto"))
    assert m.precision == "int8" and "running torch int8 instead" in caplog.text
    assert screen_texts(m, [f"{story(30)} {MARKER}"], [])[0].label == "held"


@pytest.mark.parametrize("name", MODELS)
def test_every_published_shape_runs_on_onnx_int8(tiny: dict[str, tuple[Path, Path]], tmp_path: Path,
                                                  name: str) -> None:
    """BERT, RoBERTa, XLM-R and ALBERT, with 6 or 16 outputs: each exports, and
    the int8 model still catches the marker and leaves the identity story clear."""
    m = ScreenModel.load(settings(*tiny[name], tmp_path, "onnx-int8"))
    assert m.precision == "onnx-int8"
    caught, clear = screen_texts(m, [f"{story(40)} {MARKER} {story(10)}", IDENTITY_STORY * 2], [])
    assert (caught.label, clear.label) == ("held", "clear"), (caught.scores, clear.scores)
