"""The program's settings: the rows every process reads and every service's own."""

from __future__ import annotations

from braided.services import SERVICES
from shared import config

SETTINGS: tuple[config.Setting, ...] = config.COMMON + tuple(row for s in SERVICES for row in s.SETTINGS)


class Settings(config.Settings):
    ROWS = SETTINGS
