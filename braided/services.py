"""The services the program runs, each as its service.py offers it: NAME, SETTINGS
rows, DIR (its migrations/, templates/ and static/), create_app(settings),
register_cli(subparsers) and processes(settings) (what else `braided run` starts)."""

from __future__ import annotations

from pathlib import Path

from services.moderation import service as moderation
from services.publishing import service as publishing
from services.submission import service as submission

SERVICES = (submission, moderation, publishing)
BY_NAME = {s.NAME: s for s in SERVICES}
SERVICE_DIRS: dict[str, Path] = {s.NAME: s.DIR for s in SERVICES}
