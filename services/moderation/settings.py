"""Moderation's settings: the screen's model, policy and workers, and login throttling."""

from __future__ import annotations

from services.moderation.screen.loading import DETOXIFY_MODELS, PRECISIONS
from services.moderation.screen.policy import DEFAULT_FLAG, DEFAULT_HOLD, thresholds
from shared.config import Setting, at_least_one, between, flag, one_of, whole

SETTINGS: tuple[Setting, ...] = (
    Setting("DETOXIFY_MODEL", "unbiased", "Detoxify model: original, unbiased, multilingual, original-small, "
            "unbiased-small. `original` scores identity words as toxic, hence the default.", one_of(*DETOXIFY_MODELS)),
    Setting("DETOXIFY_CHECKPOINT", None, "A local checkpoint in Detoxify's format; skips the download."),
    Setting("DETOXIFY_HF_CONFIG", None, "A local folder with the model's Hugging Face config and tokenizer; "
            "with DETOXIFY_CHECKPOINT the screen loads fully offline."),
    Setting("SCREEN_ENABLED", "true", "`false` skips loading a model: every story is filed `unscreened`.", flag),
    Setting("SCREEN_WORKERS", "1", "How many screening worker processes `make run` starts.", whole),
    Setting("SCREEN_HOLD", DEFAULT_HOLD, "Scores (label=threshold, comma-separated) at or above which the screen "
            "labels a story `held`; `none` for no score-based hold.", thresholds),
    Setting("SCREEN_FLAG", DEFAULT_FLAG, "Scores at or above which a story is `flagged` (same form as SCREEN_HOLD).",
            thresholds),
    Setting("SCREEN_QUANTIZE", "auto", "Engine and numeric precision of the screen model. `none`: torch fp32, "
            "the model as published. `bf16`: torch bfloat16 (about 4x faster on CPUs with AMX, slower without). "
            "`int8`: torch dynamic int8 (oneDNN kernels on CPUs with VNNI/AMX). `onnx` / `onnx-int8`: ONNX "
            "Runtime fp32 / dynamic int8 (about 3x torch fp32 on CPUs with VNNI), the model exported on first "
            "use (tens of seconds, several GB of memory once) and cached under DATA_DIR/onnx per checkpoint. "
            "`auto`: `bf16` with AMX, `onnx-int8` with VNNI but no AMX, else `none`; falls back to torch if "
            "ONNX Runtime cannot run the model. Speed and score drift of each: `make bench-screen`.",
            one_of(*PRECISIONS, fold=True)),
    Setting("SCREEN_THREADS", "0", "Torch threads per screening worker; 0 = CPU cores / SCREEN_WORKERS.",
            between(0, 256)),
    Setting("SCREEN_WINDOW_OVERLAP", "32", "Tokens shared by neighbouring windows of a long story: any "
            "passage this long lies whole in one window. More costs throughput.", between(0, 256)),
    Setting("SCREEN_ACK_WAIT", "30", "Seconds before JetStream redelivers a story a dead worker held; live "
            "workers keep long screenings alive with in-progress acks.", between(1, 3600)),
    Setting("LOGIN_CLIENT_FAILURES", "20", "Failed moderator logins allowed per client (keyed hash, never "
            "stored) in 15 minutes before logins from it are refused for a while.", at_least_one),
    Setting("REJECT_CONFIRMATIONS", "1", "Moderators needed to reject a story: `1`, or `2` (a rejection waits in "
            "`awaiting_confirmation` until a second moderator confirms or overturns it).", between(1, 2)),
)
