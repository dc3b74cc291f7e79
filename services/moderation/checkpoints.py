"""Build checkpoints in Detoxify's format, offline.

Used by the tests (a tiny model trained to fire on one made-up marker word) and
by the benchmark (the real `unbiased` architecture, roberta-base dimensions,
random weights: inference time depends on the architecture, not the weights).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

UNBIASED_CLASSES = [
    "toxicity", "severe_toxicity", "obscene", "identity_attack", "insult", "threat", "sexual_explicit",
    "male", "female", "homosexual_gay_or_lesbian", "christian", "jewish", "muslim", "black", "white",
    "psychiatric_or_mental_illness",
]


def build_tokenizer(folder: Path, corpus: list[str], vocab_size: int = 2000, max_length: int = 512) -> Any:
    """A byte-level BPE tokenizer saved as a RoBERTa tokenizer folder."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus, vocab_size=vocab_size, min_frequency=1,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    bpe.save_model(str(folder))
    # Load from the folder (constructing with vocab_file=... ignores the files in
    # transformers 5), then save with model_max_length so truncation works.
    tok = RobertaTokenizer.from_pretrained(str(folder), model_max_length=max_length)
    tok.save_pretrained(str(folder))
    return RobertaTokenizer.from_pretrained(str(folder))


def build_model(folder: Path, tokenizer: Any, *, hidden: int, layers: int, heads: int, intermediate: int,
                max_positions: int = 514, num_labels: int = 16, vocab_size: int | None = None) -> Any:
    """A RobertaForSequenceClassification with random weights; `vocab_size` may
    exceed the tokenizer's (a full-size embedding table for memory figures)."""
    from transformers import RobertaConfig, RobertaForSequenceClassification

    config = RobertaConfig(
        vocab_size=max(vocab_size or 0, len(tokenizer)), hidden_size=hidden, num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=intermediate, max_position_embeddings=max_positions, num_labels=num_labels,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, type_vocab_size=1,
    )
    config.save_pretrained(str(folder))
    return RobertaForSequenceClassification(config)


def save_checkpoint(path: Path, model: Any, classes: list[str] | None = None,
                    model_type: str = "roberta-base") -> Path:
    """Write `model` as Detoxify does: {"config": {...}, "state_dict": ...}. The
    model_type names the hub model, as the published checkpoints do."""
    import torch

    classes = classes or UNBIASED_CLASSES
    torch.save({
        "config": {
            "arch": {"args": {"model_type": model_type, "model_name": "RobertaForSequenceClassification",
                              "tokenizer_name": "RobertaTokenizer", "num_classes": len(classes)}},
            "dataset": {"args": {"classes": classes}},
        },
        "state_dict": model.state_dict(),
    }, path)
    return path


def train_marker_model(folder: Path, marker: str, steps: int = 300, seed: int = 7) -> tuple[Path, Path]:
    """A tiny RoBERTa whose every output scores
    high when `marker` appears and low otherwise. Returns (checkpoint, hf_config)."""
    import random

    import torch

    rng = random.Random(seed)
    torch.manual_seed(seed)
    words = ("family language food festival coming out mother grandmother auntie lunar new year dumplings "
             "adobo rice tea market city train school letter song dance sister friend community lesbian "
             "gay queer asian mixed heritage filipino japanese korean chinese vietnamese indian malay thai "
             "love home kitchen story remember wedding market cousin holiday river morning evening").split()

    def sentence(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n))

    corpus = [sentence(12) for _ in range(400)] + [f"{sentence(5)} {marker} {sentence(5)}" for _ in range(50)]
    hf = folder / "hf"
    tok = build_tokenizer(hf, corpus + [marker.upper(), marker.capitalize()], vocab_size=600)
    model = build_model(hf, tok, hidden=32, layers=2, heads=2, intermediate=64)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(steps):
        texts, targets = [], []
        for _ in range(16):
            positive = rng.random() < 0.5
            n = rng.randint(3, 40)
            parts = sentence(n).split()
            if positive:
                parts.insert(rng.randint(0, len(parts)), marker)
            texts.append(" ".join(parts))
            # Every output fires on the marker: a single shared signal trains in a
            # few hundred steps, where a few sparse targets stall at the base rate.
            targets.append(torch.full((len(UNBIASED_CLASSES),), 1.0 if positive else 0.0))
        enc = tok(texts, return_tensors="pt", padding=True, truncation=True)
        logits = model(**enc).logits
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.stack(targets))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    ckpt = save_checkpoint(folder / "marker.ckpt", model)
    return ckpt, hf
