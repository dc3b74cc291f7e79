"""The ONNX export process (services/moderation/engines.py starts it): load the
checkpoint as the worker does, in fp32, and write the exported file.

Usage: python -m braided.onnx_export ENGINE PATH"""

from __future__ import annotations

import sys
from pathlib import Path

from braided.settings import Settings
from services.moderation.engines import export_to
from services.moderation.screen import ScreenModel


def main(engine: str, path: Path) -> None:
    export_to(ScreenModel.load(Settings.from_env()).model, engine, path)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
