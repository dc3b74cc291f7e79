"""The moderation service as the braided program sees it: its web app, settings,
folder (migrations/, templates/, static/), commands, and the screening workers
`braided run` starts beside the web app."""

from __future__ import annotations

from pathlib import Path

from services.moderation.app import create_app
from services.moderation.cli import register_cli
from services.moderation.settings import SETTINGS
from shared.config import Settings

NAME = "moderation"
DIR = Path(__file__).parent
__all__ = ["DIR", "NAME", "SETTINGS", "create_app", "processes", "register_cli"]


def processes(settings: Settings) -> dict[str, list[str]]:
    """SCREEN_WORKERS screening workers."""
    return {f"worker-{i}": ["worker"] for i in range(settings.screen_workers)}
