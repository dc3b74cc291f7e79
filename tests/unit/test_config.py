import re
from pathlib import Path

import pytest

from braided.settings import SETTINGS, Settings
from shared.config import ConfigError, parse_rate

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text()
    missing = [s.name for s in SETTINGS if not re.search(rf"^\| `{s.name}` \|", text, re.M)]
    assert missing == []


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.detoxify_model == "unbiased"
    assert (s.submission_port, s.moderation_port, s.publishing_port) == (8001, 8002, 8003)
    assert s.submission_rate_limit == (10, 3600)
    assert s.report_rate_limit == (10, 3600)
    assert s.database_url is None and s.nats_url is None


@pytest.mark.parametrize("raw, expected", [("off", None), ("10/hour", (10, 3600)), (" 3 / minute ", (3, 60))])
def test_rate_limit_parsing(raw: str, expected) -> None:
    assert parse_rate(raw) == expected


@pytest.mark.parametrize("env", [{"SUBMISSION_RATE_LIMIT": "lots"}, {"REPORT_RATE_LIMIT": "0/hour"},
                                 {"DETOXIFY_MODEL": "gpt"},
                                 {"SUBMISSION_PORT": "eighty"}, {"SCREEN_ENABLED": "maybe"}])
def test_bad_values_name_the_setting(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=next(iter(env))):
        Settings.from_env(env)
