"""Settings: every environment variable Braided reads, parsed once.

A setting is one row, `Setting(name, default, help, parse)`. This module declares
the rows every process reads (`COMMON`); each service declares its own rows in its
`settings.py`, and the braided program composes them all (`braided/settings.py`).
A row's value is the attribute named after it in lower case: DATA_DIR is
`settings.data_dir`. The README's configuration table documents every row (a test
fails when one is missing).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar


class ConfigError(ValueError):
    """A setting has a value Braided cannot use; the message names it."""


Parse = Callable[[str | None], Any]


def text(raw: str | None) -> str | None:
    return raw


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str
    parse: Parse = text


# --- Parsers: each takes the raw value (the default when unset) and raises ConfigError
# with a message that reads after the setting's name.


def whole(raw: str | None) -> int:
    try:
        return int(raw or "")
    except ValueError:
        raise ConfigError(f"must be a whole number, got {raw!r}") from None


def between(low: int, high: int) -> Parse:
    def parse(raw: str | None) -> int:
        if not low <= whole(raw) <= high:
            raise ConfigError(f"must be between {low} and {high}, got {raw!r}")
        return whole(raw)
    return parse


def non_negative(raw: str | None) -> int:
    value = whole(raw)
    if value < 0:
        raise ConfigError(f"must be 0 or more, got {value}")
    return value


def at_least_one(raw: str | None) -> int:
    return max(1, whole(raw))


def flag(raw: str | None) -> bool:
    value = (raw or "").lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"must be true or false, got {value!r}")


def one_of(*choices: str, fold: bool = False) -> Parse:
    def parse(raw: str | None) -> str:
        value = (raw or "").lower() if fold else raw or ""
        if value not in choices:
            raise ConfigError(f"must be one of {', '.join(choices)}, got {value!r}")
        return value
    return parse


def url(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not re.match(r"^https?://[^\s\"'<>]+$", raw):
        raise ConfigError(f"must be an http:// or https:// address, got {raw!r}")
    return raw


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)\s*$")
_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(raw: str | None) -> tuple[int, int] | None:
    """`10/hour` → (10, 3600); `off` → None."""
    raw = raw or "off"
    if raw.strip().lower() == "off":
        return None
    m = _RATE.match(raw.lower())
    if not m or int(m.group(1)) < 1:
        raise ConfigError(f"must look like 10/hour or be off, got {raw!r}")
    return int(m.group(1)), _PERIODS[m.group(2)]


def addresses(raw: str | None) -> tuple[str, ...]:
    """IP addresses or CIDR networks, comma-separated; empty: none. Every entry must
    parse (uvicorn's proxy middleware would silently take a typo for a host name), and
    a network with host bits set (10.1.2.3/8) is given as its network (10.0.0.0/8):
    uvicorn parses networks strictly and would take that one for a host name too."""
    out = []
    for entry in (part.strip() for part in (raw or "").split(",") if part.strip()):
        try:
            out.append(str(ipaddress.ip_network(entry, strict=False)) if "/" in entry
                       else str(ipaddress.ip_address(entry)))
        except ValueError:
            raise ConfigError(f"must list IP addresses or CIDR networks, got {entry!r}") from None
    return tuple(out)


def _fail(message: str) -> Any:
    raise ConfigError(message)


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
        raise ConfigError(f"names no server: {url!r}")
    return servers


def parse_value(name: str, parse: Parse, raw: str | None) -> Any:
    """`parse(raw)`, its error prefixed with the setting's name."""
    try:
        return parse(raw)
    except ConfigError as e:
        raise ConfigError(f"{name} {e}") from None


COMMON: tuple[Setting, ...] = (
    Setting("DATA_DIR", "./.braided", "Where embedded PostgreSQL, NATS, model caches and the session key live.",
            lambda raw: Path(raw or ".braided").absolute()),
    Setting("DATABASE_URL", None, "PostgreSQL to use. Unset: an embedded server under DATA_DIR is started."),
    Setting("NATS_URL", None, "NATS (JetStream enabled) to use; several servers of one cluster comma-separated "
            "(nats://a:4222,nats://b:4222), as other NATS clients accept. Unset: an embedded nats-server is started.",
            lambda raw: raw if raw is None else ",".join(nats_servers(raw))),
    Setting("NATS_CREDS", None, "A NATS .creds file (decentralised JWT auth) this process connects with.",
            lambda raw: raw if raw is None or Path(raw).is_file() else _fail(f"{raw!r} is not a readable file")),
    Setting("NATS_USER", None, "NATS user name this process connects with (with NATS_PASSWORD); not with NATS_CREDS."),
    Setting("NATS_PASSWORD", None, "Password of NATS_USER."),
    Setting("HOST", "127.0.0.1", "Address the web services listen on."),
    Setting("SUBMISSION_PORT", "8001", "Port of the submission service (public story form and API).", whole),
    Setting("MODERATION_PORT", "8002", "Port of the moderation service (moderators only).", whole),
    Setting("PUBLISHING_PORT", "8003", "Port of the publishing service (public feed).", whole),
    Setting("SESSION_SECRET", None, "Key that signs moderator session and CSRF cookies and turns submission "
            "keys into receipt codes (replicas must share it). Unset: a random key is generated once and kept in "
            "DATA_DIR/session_secret (mode 0600)."),
    Setting("COOKIE_SECURE", "auto", "Mark cookies Secure: `auto` (when the request came over HTTPS), "
            "`true` or `false`.", one_of("auto", "true", "false", fold=True)),
    Setting("STREAM_REPLICAS", "1", "Replicas of the JetStream stream (1 locally, 3 in a cluster).", whole),
    Setting("STREAM_MAX_AGE_DAYS", "14", "How long JetStream keeps events (story text included).", whole),
    Setting("MAX_BODY_BYTES", "262144", "Largest request body accepted; larger ones get 413.", whole),
    Setting("LOG_LEVEL", "INFO", "Log level of every service (logs never hold client addresses).",
            lambda raw: (raw or "INFO").upper()),
    Setting("RETENTION_DAYS", "30", "Days after which rejected stories are purged from every schema "
            "(0: at the next sweep).", non_negative),
    Setting("RETENTION_SWEEP_SECONDS", "3600", "How often each service looks for rejected stories to purge.",
            at_least_one),
    Setting("QUICK_EXIT_URL", "https://www.bbc.com/weather", "Neutral page the quick-exit button (and Escape "
            "pressed twice) replaces every public page with.", url),
    Setting("PUBLIC_SUBMISSION_URL", None, "Address readers use to reach the submission service, for the links "
            "publishing's pages make to it. Unset: http://HOST:SUBMISSION_PORT.", url),
    Setting("PUBLIC_PUBLISHING_URL", None, "Address readers use to reach the publishing service. Unset: "
            "http://HOST:PUBLISHING_PORT.", url),
    Setting("TRUSTED_PROXIES", None, "Reverse proxies (IP addresses or CIDR networks, comma-separated) whose "
            "X-Forwarded-For (the client address, for rate limits only, never stored) and X-Forwarded-Proto "
            "(Secure cookies, HSTS) are believed. Unset: none; every peer is the client.",
            addresses),
    Setting("NATS_SECRETS_DIR", None, "For `braided run` on a NATS of its own: a folder with one password file "
            "per NATS identity (SUBMISSION_NATS_PASSWORD, ...), from which each child process gets its own "
            "NATS_USER/NATS_PASSWORD. Unset with the embedded nats-server: DATA_DIR/nats-secrets (generated, "
            "mode 0600)."),
    Setting("METRICS_HOST", "127.0.0.1", "Address of every service's private Prometheus listener (/metrics is "
            "not served on the public ports)."),
    Setting("SUBMISSION_METRICS_PORT", "9101", "Port of the submission service's metrics listener (0: any free "
            "port). A port already taken costs a warning, not the service.", non_negative),
    Setting("MODERATION_METRICS_PORT", "9102", "Port of the moderation service's metrics listener (0: any free "
            "port).", non_negative),
    Setting("PUBLISHING_METRICS_PORT", "9103", "Port of the publishing service's metrics listener (0: any free "
            "port).", non_negative),
    Setting("WEB_CONCURRENCY", "1", "Processes per web service (uvicorn workers sharing its port), to use more "
            "than one core; each has its own database pool, relay and consumers.", at_least_one),
)


class Settings:
    """The values of `ROWS`, parsed once from the environment and read-only: each
    is the attribute named after its row in lower case. A subclass composes more
    rows (the braided program: every service's)."""

    ROWS: ClassVar[tuple[Setting, ...]] = COMMON

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        names = [row.name for row in cls.ROWS]
        if len(set(names)) != len(names):
            raise ConfigError(f"a setting is declared twice: {sorted(n for n in names if names.count(n) > 1)}")
        # An empty value means unset: the row's default.
        settings = cls({row.name.lower(): parse_value(row.name, row.parse, env.get(row.name) or row.default)
                        for row in cls.ROWS})
        settings.check()
        return settings

    def check(self) -> None:
        """Rules that join several rows."""
        if self.nats_creds and (self.nats_user or self.nats_password):
            raise ConfigError("set NATS_CREDS or NATS_USER/NATS_PASSWORD, not both")
        if bool(self.nats_user) != bool(self.nats_password):
            raise ConfigError("NATS_USER and NATS_PASSWORD go together: set both or neither")

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(f"no setting {name.upper()} among {type(self).__name__}'s rows") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("settings are read-only")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(sorted(self._values))})"

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
