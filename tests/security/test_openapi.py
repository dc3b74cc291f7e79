"""schemathesis against each service's OpenAPI document (GET /openapi.json): every
generated request — valid and invalid — gets an answer that is not a 5xx."""

from __future__ import annotations

import uuid

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.stack import Stack

pytestmark = pytest.mark.slow

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.function_scoped_fixture])


def _schema(stack: Stack, service: str):  # noqa: ANN202 - a schemathesis schema
    r = httpx.get(stack.url(service, "/openapi.json"), timeout=10)
    assert r.status_code == 200 and r.json()["openapi"].startswith("3.")
    return schemathesis.openapi.from_url(stack.url(service, "/openapi.json"))


@pytest.fixture(scope="module")
def submission_api(stack: Stack):  # noqa: ANN201
    return _schema(stack, "submission")


@pytest.fixture(scope="module")
def publishing_api(stack: Stack):  # noqa: ANN201
    return _schema(stack, "publishing")


@pytest.fixture(scope="module")
def moderation_api(stack: Stack):  # noqa: ANN201
    return _schema(stack, "moderation")


@pytest.fixture(scope="module")
def mod_cookies(stack: Stack) -> dict[str, str]:
    name, password = f"schema-{uuid.uuid4().hex[:6]}", "a long enough schema passphrase"
    assert stack.add_moderator(name, password).returncode == 0
    with stack.moderator(name, password) as client:
        return dict(client.cookies)


submission = schemathesis.pytest.from_fixture("submission_api")
publishing = schemathesis.pytest.from_fixture("publishing_api")
moderation = schemathesis.pytest.from_fixture("moderation_api")


@submission.parametrize()
@SETTINGS
def test_submission_api(case: schemathesis.Case, stack: Stack) -> None:
    case.call_and_validate(base_url=stack.url("submission", ""), checks=[not_a_server_error])


@publishing.parametrize()
@SETTINGS
def test_publishing_api(case: schemathesis.Case, stack: Stack) -> None:
    case.call_and_validate(base_url=stack.url("publishing", ""), checks=[not_a_server_error])


@moderation.parametrize()
@SETTINGS
def test_moderation_api(case: schemathesis.Case, stack: Stack, mod_cookies: dict[str, str]) -> None:
    case.call_and_validate(base_url=stack.url("moderation", ""), cookies=mod_cookies, checks=[not_a_server_error])
