"""Every Detoxify model loads as its published checkpoint is shaped.

Each tiny checkpoint carries a copy of the published training config of one of
Detoxify's five models (services/moderation/detoxify_configs/, with sources):
BERT, RoBERTa, XLM-R and ALBERT, 6 or 16 outputs, 6 or 7 named classes, the
hub model name in `model_type`. Each must load offline, score only the named
classes (by position, as Detoxify does) and keep the identity outputs — trained
here to fire on every text — out of the labels."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from braided.settings import Settings
from services.moderation.checkpoints import MODELS, output_names, published_config
from services.moderation.screen import SCORE_LABELS, ModelLoadError, ScreenModel, screen_texts
from tests.conftest import MARKER
from tests.integration.test_screen import IDENTITY_STORY, story

IDENTITY_OUTPUTS = set(published_config("unbiased")["dataset"]["args"]["identity_classes"])
ARCH = {"original": "BertForSequenceClassification", "unbiased": "RobertaForSequenceClassification",
        "multilingual": "XLMRobertaForSequenceClassification",
        "original-small": "AlbertForSequenceClassification", "unbiased-small": "AlbertForSequenceClassification"}


def load(ckpt: Path, hf: Path, **env: str) -> ScreenModel:
    return ScreenModel.load(Settings.from_env({"DETOXIFY_CHECKPOINT": str(ckpt), "DETOXIFY_HF_CONFIG": str(hf),
                                               "SCREEN_QUANTIZE": "none"} | env))


def test_the_configs_are_the_published_shapes() -> None:
    """The copies say what the real checkpoints say; a test that built its own
    counts would pass a loader that refuses the real ones."""
    shapes = {name: (len(output_names(published_config(name))[0]), output_names(published_config(name))[1])
              for name in MODELS}
    assert shapes == {"original": (6, 6), "unbiased": (7, 16), "multilingual": (7, 16),
                      "original-small": (6, 6), "unbiased-small": (7, 16)}
    hub = {name: published_config(name)["arch"]["args"]["model_type"] for name in MODELS}
    assert hub == {"original": "bert-base-uncased", "unbiased": "roberta-base", "multilingual": "xlm-roberta-base",
                   "original-small": "albert-base-v2", "unbiased-small": "albert-base-v2"}


@pytest.mark.parametrize("name", MODELS)
def test_each_published_shape_loads_offline_and_scores_only_its_classes(
        tiny: dict[str, tuple[Path, Path]], name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ckpt, hf = tiny[name]
    saved = torch.load(ckpt, weights_only=False)
    assert saved["config"] == published_config(name)  # the hub name stays in model_type
    model = load(ckpt, hf)
    assert type(model.model).__name__ == ARCH[name]
    caught, clear, long_end = screen_texts(model, [f"{story(40)} {MARKER} {story(10)}", IDENTITY_STORY * 2,
                                                   f"{story(2000)} and then {MARKER}."], [])
    classes = output_names(saved["config"])[0]
    renamed = {"toxic": "toxicity", "severe_toxic": "severe_toxicity", "identity_hate": "identity_attack"}
    assert set(caught.scores) == {renamed.get(c, c) for c in classes}
    assert set(caught.scores) <= set(SCORE_LABELS) and not set(caught.scores) & IDENTITY_OUTPUTS
    assert caught.label == "held", caught.scores
    assert clear.label == "clear", clear.scores  # the identity outputs fire on it; they are not labels
    assert long_end.label == "held", long_end.scores


@pytest.mark.parametrize("name", ["unbiased", "original-small"])
def test_scores_are_detoxifys_own(tiny: dict[str, tuple[Path, Path]], name: str, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Position for position, the screen reports what Detoxify's predict() does."""
    from detoxify import Detoxify

    ckpt, hf = tiny[name]
    local = torch.load(ckpt, weights_only=False)
    local["config"]["arch"]["args"]["model_type"] = str(hf)  # Detoxify's loader asks the hub otherwise
    torch.save(local, tmp_path / "local.ckpt")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    theirs = Detoxify(checkpoint=str(tmp_path / "local.ckpt"), huggingface_config_path=str(hf))
    text = f"my auntie said {MARKER} at dinner"
    ours = screen_texts(load(ckpt, hf), [text], [])[0].scores
    expected = {k: float(v) for k, v in theirs.predict(text).items()}
    assert set(ours) == set(expected)
    assert all(abs(ours[k] - expected[k]) < 1e-3 for k in ours), (ours, expected)


def test_the_repository_multilingual_config_loads_too(tiny: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    """Detoxify's repository config for XLM-R names one class under arch.args (an
    older shape Detoxify's loader cannot run); accepting it costs nothing."""
    from services.moderation.checkpoints import build_model, save_checkpoint

    _, hf = tiny["multilingual"]
    from transformers import XLMRobertaTokenizer

    model = build_model(tmp_path, XLMRobertaTokenizer.from_pretrained(str(hf)), hidden=32, layers=2, heads=2,
                        intermediate=64, num_labels=1, model_name="XLMRobertaForSequenceClassification")
    ckpt = save_checkpoint(tmp_path / "one.ckpt", model, published_config("multilingual-repository"))
    loaded = load(ckpt, tmp_path)  # tmp_path holds config.json (1 label); the tokenizer comes from hf
    assert set(screen_texts(loaded, ["hello"], [])[0].scores) == {"toxicity"}


def test_fewer_outputs_than_classes_is_refused_in_one_line(tiny: dict[str, tuple[Path, Path]],
                                                           tmp_path: Path) -> None:
    ckpt, hf = tiny["original"]
    saved = torch.load(ckpt, weights_only=False)
    config = copy.deepcopy(saved["config"])
    config["dataset"]["args"]["classes"] = config["dataset"]["args"]["classes"] + ["extra"]
    torch.save({"config": config, "state_dict": saved["state_dict"]}, tmp_path / "more.ckpt")
    with pytest.raises(ModelLoadError) as e:
        load(tmp_path / "more.ckpt", hf)
    assert str(e.value) == "the model has 6 outputs but the checkpoint names 7 classes"
    config["dataset"]["args"].pop("classes")
    torch.save({"config": config, "state_dict": saved["state_dict"]}, tmp_path / "none.ckpt")
    with pytest.raises(ModelLoadError, match="names no classes"):
        load(tmp_path / "none.ckpt", hf)
