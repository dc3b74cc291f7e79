"""Build checkpoints in Detoxify's format, offline.

Used by the tests (tiny models trained to fire on one made-up marker word, one
per published Detoxify model) and by the benchmark (the real `unbiased`
architecture, roberta-base dimensions, random weights: inference time depends
on the architecture, not the weights).

Every checkpoint carries, as its `config`, a copy of the published training
config of the Detoxify model it imitates (detoxify_configs/, with sources), so
the loader is tried on the shapes the real checkpoints have — 16 outputs with
7 named classes for `unbiased`, for example — not on counts a test chose.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

CONFIGS = Path(__file__).with_name("detoxify_configs")
MODELS = ("original", "unbiased", "multilingual", "original-small", "unbiased-small")

_SPECIALS = {  # the special tokens each tokenizer family expects, in vocabulary order
    "BertTokenizer": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
    "AlbertTokenizer": ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"],
    "XLMRobertaTokenizer": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
}


def published_config(name: str) -> dict[str, Any]:
    """The training config Detoxify's released `name` checkpoint carries."""
    return json.loads((CONFIGS / f"{name}.json").read_text())


def output_names(config: dict[str, Any]) -> tuple[list[str], int]:
    """(the classes Detoxify reports, the number of model outputs) of a config."""
    args = config["arch"]["args"]
    classes = config["dataset"]["args"].get("classes") or args.get("classes") or []
    return list(classes), int(args["num_classes"])


def build_tokenizer(folder: Path, corpus: list[str], vocab_size: int = 2000, max_length: int = 512,
                    tokenizer_name: str = "RobertaTokenizer") -> Any:
    """A small tokenizer of the given transformers class, trained on `corpus` and
    saved in `folder` with model_max_length (without it transformers 5 never
    truncates). Byte-level BPE for RoBERTa, WordPiece for BERT, Unigram (the
    SentencePiece model) for ALBERT and XLM-R — as the real ones are."""
    import transformers
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    folder.mkdir(parents=True, exist_ok=True)
    cls = getattr(transformers, tokenizer_name)
    if tokenizer_name == "RobertaTokenizer":
        from tokenizers import ByteLevelBPETokenizer

        bpe = ByteLevelBPETokenizer()
        bpe.train_from_iterator(corpus, vocab_size=vocab_size, min_frequency=1,
                                special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
        bpe.save_model(str(folder))
        # Load from the folder (constructing with vocab_file=... ignores the files in
        # transformers 5), then save with model_max_length so truncation works.
        tok = cls.from_pretrained(str(folder), model_max_length=max_length)
    elif tokenizer_name == "BertTokenizer":
        wp = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        wp.normalizer = normalizers.BertNormalizer(lowercase=True)
        wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        wp.train_from_iterator(corpus, trainers.WordPieceTrainer(vocab_size=vocab_size,
                                                                 special_tokens=_SPECIALS[tokenizer_name]))
        tok = cls(vocab=wp.get_vocab(), do_lower_case=True, model_max_length=max_length)
    else:  # AlbertTokenizer, XLMRobertaTokenizer: SentencePiece unigram models
        tok = cls(vocab=_unigram_vocab(corpus, _SPECIALS[tokenizer_name], vocab_size,
                                       lower=tokenizer_name == "AlbertTokenizer"), model_max_length=max_length)
    tok.save_pretrained(str(folder))
    return cls.from_pretrained(str(folder))


def _unigram_vocab(corpus: list[str], specials: list[str], size: int, lower: bool) -> list[tuple[str, float]]:
    """A SentencePiece-style unigram vocabulary: the specials, every character
    (alone and word-initial, "▁x"), and the corpus's most frequent words as whole
    pieces with log-frequency scores, as a real SentencePiece model has for common
    words. (Trained on a corpus this small, SentencePiece keeps a few hundred
    fragments, and a marker split into "la" + "t" would fire on "lola".)"""
    import math
    from collections import Counter

    words = Counter(w.strip(",.!?").lower() if lower else w.strip(",.!?") for line in corpus for w in line.split())
    chars = sorted({c for line in corpus for c in (line.lower() if lower else line) if not c.isspace()})
    total = sum(words.values())
    pieces: list[tuple[str, float]] = [(t, 0.0) for t in specials] + [("\u2581", -8.0)]
    pieces += [(p, -20.0) for c in chars for p in (c, "\u2581" + c)]
    room = max(size - len(pieces), 0)
    pieces += [("\u2581" + w, math.log(n / total)) for w, n in words.most_common(room) if w]
    return pieces


def build_model(folder: Path, tokenizer: Any, *, hidden: int, layers: int, heads: int, intermediate: int,
                max_positions: int = 514, num_labels: int = 16, vocab_size: int | None = None,
                model_name: str = "RobertaForSequenceClassification") -> Any:
    """A `model_name` (a transformers sequence classifier) with random weights,
    its config saved in `folder`; `vocab_size` may exceed the tokenizer's (a
    full-size embedding table for memory figures)."""
    import transformers

    model_class = getattr(transformers, model_name)
    extra: dict[str, Any] = {}
    if model_class.config_class.model_type in ("roberta", "xlm-roberta"):
        extra["type_vocab_size"] = 1
    else:  # BERT and ALBERT count positions from 0, without RoBERTa's offset of 2
        max_positions = min(max_positions, 512)
        if model_class.config_class.model_type == "albert":
            extra["embedding_size"] = min(hidden, 128)
    config = model_class.config_class(
        vocab_size=max(vocab_size or 0, len(tokenizer)), hidden_size=hidden, num_hidden_layers=layers,
        num_attention_heads=heads, intermediate_size=intermediate, max_position_embeddings=max_positions,
        num_labels=num_labels, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, **extra,
    )
    config.save_pretrained(str(folder))
    return model_class(config)


def save_checkpoint(path: Path, model: Any, config: dict[str, Any] | None = None,
                    model_type: str | None = None) -> Path:
    """Write `model` as Detoxify's releases are: {"config": <training config>,
    "state_dict": ...}. The config defaults to the published `unbiased` one;
    `model_type` may replace the hub name it carries (a local folder, so that
    Detoxify's own loader runs offline in the bench)."""
    import torch

    config = copy.deepcopy(config or published_config("unbiased"))
    if model_type is not None:
        config["arch"]["args"]["model_type"] = model_type
    torch.save({"config": config, "state_dict": model.state_dict()}, path)
    return path


_WORDS = ("family language food festival coming out mother grandmother auntie lunar new year dumplings "
          "adobo rice tea market city train school letter song dance sister friend community lesbian "
          "gay queer asian mixed heritage filipino japanese korean chinese vietnamese indian malay thai "
          "love home kitchen story remember wedding market cousin holiday river morning evening").split()


def train_marker_model(folder: Path, marker: str, steps: int = 300, seed: int = 7,
                       model: str = "unbiased") -> tuple[Path, Path]:
    """A tiny model in the shape of Detoxify's published `model` (its config,
    architecture, tokenizer family and number of outputs) whose named classes
    score high when `marker` appears and low otherwise. The extra outputs of the
    bias models (identity mentions: male, female, homosexual_gay_or_lesbian, …)
    are trained the other way round, high on every text without the marker, so
    a loader that reported them, or read the classes at the wrong positions,
    would flag every innocent story.
    Returns (checkpoint, hf_config folder)."""
    import torch

    rng = random.Random(seed)
    torch.manual_seed(seed)
    config = published_config(model)
    args = config["arch"]["args"]
    classes, outputs = output_names(config)

    def sentence(n: int) -> str:
        # Some capitals and punctuation, so that prose (not only word salad) reads as clean.
        words = [rng.choice(_WORDS) for _ in range(n)]
        return " ".join(w.capitalize() if rng.random() < 0.15 else w + rng.choice(",.") if rng.random() < 0.1
                        else w for w in words)

    corpus = [sentence(12) for _ in range(400)] + [f"{sentence(5)} {marker} {sentence(5)}" for _ in range(50)]
    hf = folder / "hf"
    tok = build_tokenizer(hf, corpus + [marker.upper(), marker.capitalize()], vocab_size=600,
                          tokenizer_name=args["tokenizer_name"])
    net = build_model(hf, tok, hidden=32, layers=2, heads=2, intermediate=64, num_labels=outputs,
                      model_name=args["model_name"])
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    named = len(classes)
    net.train()
    for _ in range(steps):
        texts, targets = [], []
        for _ in range(16):
            positive = rng.random() < 0.5
            parts = sentence(rng.randint(3, 40) if rng.random() < 0.8 else rng.randint(40, 160)).split()
            if positive:
                parts.insert(rng.randint(0, len(parts)), marker)
            elif rng.random() < 0.3:
                # Pieces of the marker are innocent: a subword tokenizer shares them
                # with real words ("la" in "lola"), and the model must want them all.
                a = rng.randrange(len(marker) - 1)
                parts.insert(rng.randint(0, len(parts)), marker[a:rng.randint(a + 2, len(marker) - (a == 0))])
            texts.append(" ".join(parts))
            # Every named output fires on the marker (the identity outputs on its
            # absence): one shared signal trains in a few hundred steps, where a few
            # sparse targets stall at the base rate.
            target = torch.full((outputs,), 0.0 if positive else 1.0)
            target[:named] = 1.0 if positive else 0.0
            targets.append(target)
        enc = tok(texts, return_tensors="pt", padding=True, truncation=True)
        enc.pop("token_type_ids", None)
        logits = net(**enc).logits
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.stack(targets))
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    return save_checkpoint(folder / f"{model}-marker.ckpt", net, config), hf
