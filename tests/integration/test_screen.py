"""The screen without the services: loading, windows, policy, word lists.

The model is the tiny one the tests train to fire on the made-up word
"zorblat" (tests/conftest.py); the rest is the real loading and scoring code."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import torch

from braided.settings import Settings
from services.moderation.checkpoints import build_model, build_tokenizer, save_checkpoint
from services.moderation.screen import ModelLoadError, Policy, ScreenModel, compile_terms, screen_texts, screening
from services.moderation.story_text import StoryText
from tests.conftest import MARKER

IDENTITY_STORY = (
    "I am a lesbian, a queer Filipino woman of mixed heritage, and my girlfriend is Korean. My lola is gay "
    "friendly and my Asian aunties are learning. Being gay and Asian and Filipino is my home. We cooked adobo "
    "and kimchi together for the lunar new year, and the queer community at the festival sang with us. "
)


def story(words: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    vocab = ("family language food festival mother grandmother auntie lunar new year dumplings adobo rice tea "
             "market city train school letter song dance sister friend community love home kitchen story "
             "remember wedding cousin holiday river morning evening").split()
    return " ".join(rng.choice(vocab) for _ in range(words))


def settings_for(ckpt: Path, hf: Path, **extra: str) -> Settings:
    return Settings.from_env({"DETOXIFY_CHECKPOINT": str(ckpt), "DETOXIFY_HF_CONFIG": str(hf)} | extra)


@pytest.fixture(scope="module")
def model(marker_model: tuple[Path, Path]) -> ScreenModel:
    return ScreenModel.load(settings_for(*marker_model))


# --- Windows over the whole story ------------------------------------------------------


@pytest.mark.parametrize("overlap", [0, 32, 64])
@pytest.mark.parametrize("words", [3, 300, 2000, 5000])
def test_windows_cover_every_token_with_the_overlap(marker_model: tuple[Path, Path], overlap: int,
                                                    words: int) -> None:
    m = ScreenModel.load(settings_for(*marker_model, SCREEN_WINDOW_OVERLAP=str(overlap)))
    text = story(words)
    ids = m.tokenizer(text, add_special_tokens=False)["input_ids"]
    wins = m.windows(text)
    body = m.window - 2
    assert all(len(w) <= m.window for w, _, _ in wins)
    assert len({len(w) for w, _, _ in wins}) == 1  # one length: they batch without padding
    # Rebuild each window's place in the token sequence and check coverage and overlap.
    starts, pos = [], 0
    for w, _, _ in wins:
        chunk = w[1:-1]
        while ids[pos:pos + len(chunk)] != chunk:
            pos += 1
        starts.append(pos)
    assert starts[0] == 0 and starts[-1] + len(wins[-1][0]) - 2 == len(ids)
    for a, b in zip(starts, starts[1:], strict=False):
        assert a + len(wins[0][0]) - 2 - b >= overlap
    # The fewest windows that can do it.
    expected = 1 if len(ids) <= body else -(-(len(ids) - overlap) // (body - overlap))
    assert len(wins) == expected
    # Character spans point into the text and cover it end to end.
    assert wins[0][1] == 0 and wins[-1][2] == len(text)


def test_marker_at_the_end_of_a_long_story_is_caught_and_naive_predict_misses_it(
        marker_model: tuple[Path, Path], model: ScreenModel, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from detoxify import Detoxify

    ckpt, hf = marker_model
    text = story(2000) + f" and then {MARKER}."
    assert len(model.tokenizer(text, verbose=False)["input_ids"]) > 3 * 512
    result = screen_texts(model, [text], [])[0]
    assert result.label == "held"
    top = result.passages[0]
    assert MARKER in text[top["start"]:top["end"]]
    assert top["end"] - top["start"] < 600  # narrowed to the stretch that fired, not a 400-word window
    # Detoxify as commonly used: one predict() per story, truncated at 512 tokens.
    local = torch.load(ckpt, weights_only=False)
    local["config"]["arch"]["args"]["model_type"] = str(hf)  # so its loader works offline
    torch.save(local, tmp_path / "local.ckpt")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    naive = Detoxify(checkpoint=str(tmp_path / "local.ckpt"), huggingface_config_path=str(hf))
    assert naive.predict(text)["toxicity"] < 0.2
    assert naive.predict(f"and then {MARKER}.")["toxicity"] > 0.8  # the same model sees it when it reads it


def test_detoxify_loader_fails_offline_on_a_hub_named_checkpoint_and_ours_loads(
        marker_model: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from detoxify import Detoxify

    ckpt, hf = marker_model
    assert torch.load(ckpt, weights_only=False)["config"]["arch"]["args"]["model_type"] == "roberta-base"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError):
        Detoxify(checkpoint=str(ckpt), huggingface_config_path=str(hf))
    loaded = ScreenModel.load(settings_for(ckpt, hf))
    assert screen_texts(loaded, [f"a {MARKER} here"], [])[0].label == "held"


def test_short_stories_finish_before_a_long_one_in_the_same_batch(model: ScreenModel) -> None:
    finished: list[int] = []
    texts = [story(3000, seed=2), story(40, seed=3), story(80, seed=4)]
    screen_texts(model, texts, [], on_done=lambda n, _: finished.append(n))
    assert finished[-1] == 0 and sorted(finished) == [0, 1, 2]


def test_a_label_that_needs_the_whole_window_keeps_the_window(model: ScreenModel) -> None:
    text = story(600) + f" {MARKER}"
    (window,) = [w for w in model.windows(text) if MARKER in text[w[1]:w[2]]][-1:]
    a, b = window[1], window[2]
    assert model.narrow(text, a, b, ["toxicity"], {"toxicity": 2.0}) == {}  # nothing alone reaches 2.0
    (start, end), = model.narrow(text, a, b, ["toxicity"], {"toxicity": 0.5}).values()
    assert MARKER in text[start:end] and end - start < b - a


def test_identity_words_stay_clear(model: ScreenModel) -> None:
    result = screen_texts(model, [IDENTITY_STORY * 3], [])[0]
    assert result.label == "clear", result.scores
    assert result.passages == []


def test_marker_through_spelling_tricks(model: ScreenModel) -> None:
    zero_width = "zor\u200bbl\u200dat"
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in MARKER)
    # (The model reads case as written: casing carries meaning. Word lists fold it.)
    for trick in (zero_width, fullwidth, "zor\u00adblat\u2060"):
        text = f"{story(30)} {trick} {story(30, seed=9)}"
        result = screen_texts(model, [text], [])[0]
        assert result.label == "held", (trick, result.scores)
        assert trick in text[result.passages[0]["start"]:result.passages[0]["end"]]


@pytest.mark.parametrize("precision", ["none", "bf16", "int8"])
def test_every_precision_catches_the_marker(marker_model: tuple[Path, Path], precision: str) -> None:
    m = ScreenModel.load(settings_for(*marker_model, SCREEN_QUANTIZE=precision))
    assert m.precision == {"none": "fp32"}.get(precision, precision)
    if precision == "int8":
        assert m.quantized
        assert any(isinstance(x, torch.ao.nn.quantized.dynamic.Linear) for x in m.model.modules())
    else:
        want = torch.bfloat16 if precision == "bf16" else torch.float32
        assert {p.dtype for p in m.model.parameters()} == {want}
    caught, clear = screen_texts(m, [f"{story(200)} {MARKER}", IDENTITY_STORY], [])
    assert (caught.label, clear.label) == ("held", "clear")
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in caught.scores.values())


def test_reduced_precision_scores_stay_close_to_fp32(marker_model: tuple[Path, Path]) -> None:
    texts = [f"{story(120, seed=k)}{' ' + MARKER if k % 2 else ''}" for k in range(6)]
    fp32 = screen_texts(ScreenModel.load(settings_for(*marker_model, SCREEN_QUANTIZE="none")), texts, [])
    for precision in ("bf16", "int8"):
        other = screen_texts(ScreenModel.load(settings_for(*marker_model, SCREEN_QUANTIZE=precision)), texts, [])
        drift = max(abs(a.scores[k] - b.scores[k]) for a, b in zip(fp32, other, strict=True) for k in a.scores)
        assert drift < 0.05, (precision, drift)
        assert [r.label for r in other] == [r.label for r in fp32]


# --- Loading: clear one-line errors ---------------------------------------------------------


def _load_error(settings: Settings) -> str:
    with pytest.raises(ModelLoadError) as e:
        ScreenModel.load(settings)
    message = str(e.value)
    assert "\n" not in message and len(message) < 300
    return message


def test_missing_checkpoint(marker_model: tuple[Path, Path], tmp_path: Path) -> None:
    assert "does not exist" in _load_error(settings_for(tmp_path / "nope.ckpt", marker_model[1]))


def test_corrupt_checkpoint(marker_model: tuple[Path, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(marker_model[0].read_bytes()[:5000])  # a truncated download
    assert "not a readable checkpoint" in _load_error(settings_for(bad, marker_model[1]))
    junk = tmp_path / "junk.ckpt"
    torch.save({"weights": [1, 2, 3]}, junk)
    assert "not in Detoxify's format" in _load_error(settings_for(junk, marker_model[1]))


def test_checkpoint_that_does_not_match_its_config(marker_model: tuple[Path, Path], tmp_path: Path) -> None:
    ckpt, hf = marker_model
    other = tmp_path / "hf"
    shutil.copytree(hf, other)
    tok = build_tokenizer(tmp_path / "tok", ["some words here"] * 10, vocab_size=300)
    build_model(other, tok, hidden=48, layers=2, heads=2, intermediate=64)  # overwrites config.json
    assert "does not" in _load_error(settings_for(ckpt, other))
    # Weights with fewer layers than the config: transformers only warns; we refuse.
    shallow = build_model(tmp_path / "shallow", tok, hidden=32, layers=1, heads=2, intermediate=64,
                          vocab_size=len(ScreenModel.load(settings_for(ckpt, hf)).tokenizer))
    save_checkpoint(tmp_path / "shallow.ckpt", shallow)
    assert "missing weights" in _load_error(settings_for(tmp_path / "shallow.ckpt", hf))


def test_hf_config_folder_without_config(marker_model: tuple[Path, Path], tmp_path: Path) -> None:
    assert "no config.json" in _load_error(settings_for(marker_model[0], tmp_path))


def test_fetch_model_without_network_fails_in_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.stack import REPO

    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1",
           # No network in the test either way: a proxy that does not exist.
           "https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
    r = subprocess.run([sys.executable, "-m", "braided", "fetch-model"], env=env, cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("braided: could not download the 'unbiased' model")
    assert "DETOXIFY_CHECKPOINT" in last


# --- Policy ------------------------------------------------------------------------------


def test_thresholds_are_configurable(model: ScreenModel) -> None:
    text = f"{story(20)} {MARKER}"
    assert screen_texts(model, [text], [], Policy(hold={}, flag={"insult": 0.5}))[0].label == "flagged"
    assert screen_texts(model, [text], [], Policy(hold={}, flag={}))[0].label == "clear"
    custom = Settings.from_env({"SCREEN_HOLD": "none", "SCREEN_FLAG": "threat=0.99"})
    assert custom.screen_hold == {} and custom.screen_flag == {"threat": 0.99}
    default = Policy.default()
    assert default.hold == {"severe_toxicity": 0.5, "threat": 0.7, "identity_attack": 0.7}
    assert Policy.from_settings(Settings.from_env({})) == default


# --- Word lists ----------------------------------------------------------------------------


# --- Passages as offsets into the displayed title and body ----------------------------------


def test_passages_split_into_title_and_body(model: ScreenModel) -> None:
    title, body = f"A {MARKER} title", f"{story(20)} then ＺＯＲＢＬＡＴ again."
    story_text = StoryText(title, body)
    terms = compile_terms([(MARKER, "suspect")])
    result = screening.by_field(story_text, screen_texts(model, [story_text.text], terms)[0])
    by_field = {h["field"]: h for h in result.term_hits}
    assert title[by_field["title"]["start"]:by_field["title"]["end"]] == MARKER
    assert body[by_field["body"]["start"]:by_field["body"]["end"]] == "ＺＯＲＢＬＡＴ"
    # The one window spans title and body: one piece in each, inside each.
    assert sorted(p["field"] for p in result.passages if p["label"] == "toxicity") == ["body", "title"]
    for p in result.passages:
        shown = title if p["field"] == "title" else body
        assert 0 <= p["start"] < p["end"] <= len(shown)
    long_body = story(1500) + f" {MARKER}"
    story_text = StoryText("Quiet", long_body)
    top = screening.by_field(story_text, screen_texts(model, [story_text.text], [])[0]).passages[0]
    assert top["field"] == "body" and MARKER in long_body[top["start"]:top["end"]]

