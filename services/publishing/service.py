"""The publishing service as the braided program sees it: its web app, settings and
folder (migrations/, templates/, static/). It adds no commands and no processes."""

from __future__ import annotations

import argparse
from pathlib import Path

from services.publishing.app import create_app
from services.publishing.settings import SETTINGS
from shared.config import Settings

NAME = "publishing"
DIR = Path(__file__).parent
__all__ = ["DIR", "NAME", "SETTINGS", "create_app", "processes", "register_cli"]


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """No commands of its own."""


def processes(settings: Settings) -> dict[str, list[str]]:
    """No processes besides its web app."""
    return {}
