"""Settings: every environment variable Braided reads, parsed once.

Each setting has a name, a default and help text; `tests/shared/test_config.py`
fails when one is missing from the README's configuration table.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DATA_DIR", "./.braided", "Where embedded PostgreSQL, NATS, model caches and the session key live."),
    Setting("DATABASE_URL", None, "PostgreSQL to use. Unset: an embedded server under DATA_DIR is started."),
    Setting("NATS_URL", None, "NATS (JetStream enabled) to use; several servers of one cluster comma-separated "
            "(nats://a:4222,nats://b:4222), as other NATS clients accept. Unset: an embedded nats-server is started."),
    Setting("NATS_CREDS", None, "A NATS .creds file (decentralised JWT auth) this process connects with."),
    Setting("NATS_USER", None, "NATS user name this process connects with (with NATS_PASSWORD); not with NATS_CREDS."),
    Setting("NATS_PASSWORD", None, "Password of NATS_USER."),
    Setting("HOST", "127.0.0.1", "Address the web services listen on."),
    Setting("SUBMISSION_PORT", "8001", "Port of the submission service (public story form and API)."),
    Setting("MODERATION_PORT", "8002", "Port of the moderation service (moderators only)."),
    Setting("PUBLISHING_PORT", "8003", "Port of the publishing service (public feed)."),
    Setting("DETOXIFY_MODEL", "unbiased", "Detoxify model: original, unbiased, multilingual, original-small, "
            "unbiased-small. `original` scores identity words as toxic, hence the default."),
    Setting("DETOXIFY_CHECKPOINT", None, "A local checkpoint in Detoxify's format; skips the download."),
    Setting("DETOXIFY_HF_CONFIG", None, "A local folder with the model's Hugging Face config and tokenizer; "
            "with DETOXIFY_CHECKPOINT the screen loads fully offline."),
    Setting("SCREEN_ENABLED", "true", "`false` skips loading a model: every story is filed `unscreened`."),
    Setting("SCREEN_WORKERS", "1", "How many screening worker processes `make run` starts."),
    Setting("SUBMISSION_RATE_LIMIT", "10/hour", "Per-client submission limit (N/second|minute|hour|day); "
            "`off` disables it."),
    Setting("REPORT_RATE_LIMIT", "10/hour", "Per-client limit on reader reports of published stories (same "
            "form as SUBMISSION_RATE_LIMIT)."),
    Setting("SESSION_SECRET", None, "Key that signs moderator session and CSRF cookies and turns submission "
            "keys into receipt codes (replicas must share it). Unset: a random key is generated once and kept in "
            "DATA_DIR/session_secret (mode 0600)."),
    Setting("COOKIE_SECURE", "auto", "Mark cookies Secure: `auto` (when the request came over HTTPS), "
            "`true` or `false`."),
    Setting("STREAM_REPLICAS", "1", "Replicas of the JetStream stream (1 locally, 3 in a cluster)."),
    Setting("STREAM_MAX_AGE_DAYS", "14", "How long JetStream keeps events (story text included)."),
    Setting("MAX_BODY_BYTES", "262144", "Largest request body accepted; larger ones get 413."),
    Setting("LOG_LEVEL", "INFO", "Log level of every service (logs never hold client addresses)."),
    Setting("RETENTION_DAYS", "30", "Days after which rejected stories are purged from every schema "
            "(0: at the next sweep)."),
    Setting("RETENTION_SWEEP_SECONDS", "3600", "How often each service looks for rejected stories to purge."),
    Setting("SCREEN_HOLD", "severe_toxicity=0.5,threat=0.7,identity_attack=0.7", "Scores (label=threshold, "
            "comma-separated) at or above which the screen labels a story `held`; `none` for no score-based hold."),
    Setting("SCREEN_FLAG", "toxicity=0.5,severe_toxicity=0.2,obscene=0.6,threat=0.4,insult=0.5,"
            "identity_attack=0.4,sexual_explicit=0.6", "Scores at or above which a story is `flagged` "
            "(same form as SCREEN_HOLD)."),
    Setting("SCREEN_QUANTIZE", "auto", "Numeric precision of the screen model. `none`: fp32, the model as "
            "published. `bf16`: bfloat16 weights (about 4x faster on CPUs with AMX, slower without). `int8`: "
            "dynamic int8 quantization of the Linear layers (oneDNN kernels on CPUs with VNNI/AMX). `auto`: "
            "`bf16` where the CPU has AMX-BF16, else `none`. Score drift of each: `make bench-screen`."),
    Setting("SCREEN_THREADS", "0", "Torch threads per screening worker; 0 = CPU cores / SCREEN_WORKERS."),
    Setting("SCREEN_WINDOW_OVERLAP", "32", "Tokens shared by neighbouring windows of a long story: any "
            "passage this long lies whole in one window. More costs throughput."),
    Setting("SCREEN_ACK_WAIT", "30", "Seconds before JetStream redelivers a story a dead worker held; live "
            "workers keep long screenings alive with in-progress acks."),
    Setting("LOGIN_CLIENT_FAILURES", "20", "Failed moderator logins allowed per client (keyed hash, never "
            "stored) in 15 minutes before logins from it are refused for a while."),
    Setting("QUICK_EXIT_URL", "https://www.bbc.com/weather", "Neutral page the quick-exit button (and Escape "
            "pressed twice) replaces every public page with."),
    Setting("PUBLIC_SUBMISSION_URL", None, "Address readers use to reach the submission service, for links "
            "between the two public services. Unset: http://HOST:SUBMISSION_PORT."),
    Setting("PUBLIC_PUBLISHING_URL", None, "Address readers use to reach the publishing service. Unset: "
            "http://HOST:PUBLISHING_PORT."),
)

_DEFAULTS = {s.name: s.default for s in SETTINGS}

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)\s*$")
_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class ConfigError(ValueError):
    """A setting has a value Braided cannot use; the message names it."""


SCREEN_PRECISIONS = ("auto", "none", "bf16", "int8")
SCREEN_LABELS = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack", "sexual_explicit")


def parse_thresholds(name: str, raw: str) -> dict[str, float]:
    """`threat=0.7,insult=0.5` → {"threat": 0.7, "insult": 0.5}; `none` → {}."""
    if raw.strip().lower() == "none":
        return {}
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        label, eq, value = part.partition("=")
        label = label.strip()
        if not eq or label not in SCREEN_LABELS:
            raise ConfigError(f"{name} must look like threat=0.7,insult=0.5 with labels from "
                              f"{', '.join(SCREEN_LABELS)}; got {part!r}")
        try:
            out[label] = float(value)
        except ValueError:
            raise ConfigError(f"{name}: {label} needs a number between 0 and 1, got {value.strip()!r}") from None
        if not 0 <= out[label] <= 1:
            raise ConfigError(f"{name}: {label} needs a number between 0 and 1, got {value.strip()!r}")
    return out


def _get(env: dict[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None or value == "":
        return _DEFAULTS[name]
    return value


def _int(env: dict[str, str], name: str) -> int:
    raw = _get(env, name)
    try:
        return int(raw or "")
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _non_negative(env: dict[str, str], name: str) -> int:
    value = _int(env, name)
    if value < 0:
        raise ConfigError(f"{name} must be 0 or more, got {value}")
    return value


def _bool(env: dict[str, str], name: str) -> bool:
    raw = (_get(env, name) or "").lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _url(env: dict[str, str], name: str) -> str | None:
    raw = _get(env, name)
    if raw is None:
        return None
    if not re.match(r"^https?://[^\s\"'<>]+$", raw):
        raise ConfigError(f"{name} must be an http:// or https:// address, got {raw!r}")
    return raw


def parse_rate(raw: str, name: str = "SUBMISSION_RATE_LIMIT") -> tuple[int, int] | None:
    """`10/hour` → (10, 3600); `off` → None."""
    if raw.strip().lower() == "off":
        return None
    m = _RATE.match(raw.lower())
    if not m or int(m.group(1)) < 1:
        raise ConfigError(f"{name} must look like 10/hour or be off, got {raw!r}")
    return int(m.group(1)), _PERIODS[m.group(2)]


def nats_servers(url: str) -> list[str]:
    """NATS_URL → the server list nats-py wants.

    Operators write one cluster as `nats://a:4222,nats://b:4222` (spaces allowed), the
    form nats.go and the `nats` CLI accept; nats-py 2.16 refuses it as one string
    ("invalid connect url option"), so it is split here the way nats.go splits it:
    on commas, each part trimmed of spaces and a trailing slash, empty parts dropped.
    Each part keeps its own scheme (nats://, tls://) and user:password@."""
    servers = [part.strip().removesuffix("/") for part in url.split(",")]
    servers = [s for s in servers if s]
    if not servers:
        raise ConfigError(f"NATS_URL names no server: {url!r}")
    return servers


DETOXIFY_MODELS = ("original", "unbiased", "multilingual", "original-small", "unbiased-small")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None
    nats_url: str | None
    nats_creds: str | None
    nats_user: str | None
    nats_password: str | None
    host: str
    submission_port: int
    moderation_port: int
    publishing_port: int
    detoxify_model: str
    detoxify_checkpoint: str | None
    detoxify_hf_config: str | None
    screen_enabled: bool
    screen_workers: int
    submission_rate_limit: tuple[int, int] | None
    report_rate_limit: tuple[int, int] | None
    session_secret: str | None
    cookie_secure: str
    stream_replicas: int
    stream_max_age_days: int
    max_body_bytes: int
    log_level: str
    retention_days: int
    retention_sweep_seconds: int
    screen_hold: dict[str, float]
    screen_flag: dict[str, float]
    screen_quantize: str
    screen_threads: int
    screen_window_overlap: int
    screen_ack_wait: int
    login_client_failures: int
    quick_exit_url: str
    public_submission_url: str | None
    public_publishing_url: str | None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        model = _get(env, "DETOXIFY_MODEL") or "unbiased"
        if model not in DETOXIFY_MODELS:
            raise ConfigError(f"DETOXIFY_MODEL must be one of {', '.join(DETOXIFY_MODELS)}, got {model!r}")
        quantize = (_get(env, "SCREEN_QUANTIZE") or "auto").lower()
        if quantize not in SCREEN_PRECISIONS:
            raise ConfigError(f"SCREEN_QUANTIZE must be one of {', '.join(SCREEN_PRECISIONS)}, got {quantize!r}")
        for name, low, high in (("SCREEN_THREADS", 0, 256), ("SCREEN_WINDOW_OVERLAP", 0, 256),
                                ("SCREEN_ACK_WAIT", 1, 3600)):
            if not low <= _int(env, name) <= high:
                raise ConfigError(f"{name} must be between {low} and {high}, got {_get(env, name)!r}")
        if _get(env, "NATS_URL") is not None:
            nats_servers(_get(env, "NATS_URL") or "")
        nats_creds, nats_user, nats_password = (_get(env, n) for n in ("NATS_CREDS", "NATS_USER", "NATS_PASSWORD"))
        if nats_creds and (nats_user or nats_password):
            raise ConfigError("set NATS_CREDS or NATS_USER/NATS_PASSWORD, not both")
        if bool(nats_user) != bool(nats_password):
            raise ConfigError("NATS_USER and NATS_PASSWORD go together: set both or neither")
        if nats_creds and not Path(nats_creds).is_file():
            raise ConfigError(f"NATS_CREDS {nats_creds!r} is not a readable file")
        secure = (_get(env, "COOKIE_SECURE") or "auto").lower()
        if secure not in ("auto", "true", "false"):
            raise ConfigError(f"COOKIE_SECURE must be auto, true or false, got {secure!r}")
        return cls(
            data_dir=Path(_get(env, "DATA_DIR") or ".braided").absolute(),
            database_url=_get(env, "DATABASE_URL"),
            nats_url=_get(env, "NATS_URL"),
            nats_creds=nats_creds,
            nats_user=nats_user,
            nats_password=nats_password,
            host=_get(env, "HOST") or "127.0.0.1",
            submission_port=_int(env, "SUBMISSION_PORT"),
            moderation_port=_int(env, "MODERATION_PORT"),
            publishing_port=_int(env, "PUBLISHING_PORT"),
            detoxify_model=model,
            detoxify_checkpoint=_get(env, "DETOXIFY_CHECKPOINT"),
            detoxify_hf_config=_get(env, "DETOXIFY_HF_CONFIG"),
            screen_enabled=_bool(env, "SCREEN_ENABLED"),
            screen_workers=_int(env, "SCREEN_WORKERS"),
            submission_rate_limit=parse_rate(_get(env, "SUBMISSION_RATE_LIMIT") or "off"),
            report_rate_limit=parse_rate(_get(env, "REPORT_RATE_LIMIT") or "off", "REPORT_RATE_LIMIT"),
            session_secret=_get(env, "SESSION_SECRET"),
            cookie_secure=secure,
            stream_replicas=_int(env, "STREAM_REPLICAS"),
            stream_max_age_days=_int(env, "STREAM_MAX_AGE_DAYS"),
            max_body_bytes=_int(env, "MAX_BODY_BYTES"),
            log_level=(_get(env, "LOG_LEVEL") or "INFO").upper(),
            retention_days=_non_negative(env, "RETENTION_DAYS"),
            retention_sweep_seconds=max(1, _int(env, "RETENTION_SWEEP_SECONDS")),
            screen_hold=parse_thresholds("SCREEN_HOLD", _get(env, "SCREEN_HOLD") or "none"),
            screen_flag=parse_thresholds("SCREEN_FLAG", _get(env, "SCREEN_FLAG") or "none"),
            screen_quantize=quantize,
            screen_threads=_int(env, "SCREEN_THREADS"),
            screen_window_overlap=_int(env, "SCREEN_WINDOW_OVERLAP"),
            screen_ack_wait=_int(env, "SCREEN_ACK_WAIT"),
            login_client_failures=max(1, _int(env, "LOGIN_CLIENT_FAILURES")),
            quick_exit_url=_url(env, "QUICK_EXIT_URL") or "",
            public_submission_url=_url(env, "PUBLIC_SUBMISSION_URL"),
            public_publishing_url=_url(env, "PUBLIC_PUBLISHING_URL"),
        )

    def submission_url(self) -> str:
        return (self.public_submission_url or f"http://{self.host}:{self.submission_port}").rstrip("/")

    def publishing_url(self) -> str:
        return (self.public_publishing_url or f"http://{self.host}:{self.publishing_port}").rstrip("/")

    def secret(self) -> str:
        """The session key: configured, or generated once per DATA_DIR."""
        if self.session_secret:
            return self.session_secret
        path = self.data_dir / "session_secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process won the race; use its key
                pass
            else:
                with os.fdopen(fd, "w") as f:
                    f.write(os.urandom(32).hex())
        return path.read_text().strip()


assert {f.name.upper() for f in fields(Settings)} == set(_DEFAULTS), "Settings and SETTINGS disagree"
