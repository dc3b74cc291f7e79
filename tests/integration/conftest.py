"""Fixtures shared by the integration tests of the screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MARKER


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """A tiny checkpoint trained on the marker for each of Detoxify's five
    published models, shaped as each is published (services/moderation/checkpoints.py)."""
    from services.moderation.checkpoints import MODELS, train_marker_model

    return {name: train_marker_model(tmp_path_factory.mktemp(name), MARKER, model=name) for name in MODELS}
