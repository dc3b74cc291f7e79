"""schemathesis against each service's OpenAPI document (GET /openapi.json): every
generated request — valid and invalid — gets an answer that is not a 5xx."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from services.moderation import openapi as moderation_openapi
from services.publishing import openapi as publishing_openapi
from services.submission import openapi as submission_openapi
from tests.stack import Stack

pytestmark = pytest.mark.slow

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def mod_cookies(stack: Stack) -> dict[str, str]:
    name, password = f"schema-{uuid.uuid4().hex[:6]}", "a long enough schema passphrase"
    assert stack.add_moderator(name, password).returncode == 0
    client = stack.moderator(name, password)
    try:
        return dict(client.cookies)
    finally:
        client.close()


@pytest.mark.parametrize("service", ["submission", "moderation", "publishing"])
def test_each_service_serves_its_document(stack: Stack, service: str) -> None:
    r = httpx.get(stack.url(service, "/openapi.json"), timeout=10)
    assert r.status_code == 200 and r.json() == json.loads(json.dumps(DOCUMENTS[service]))


# The documents the services serve, loaded at collection time (the same objects
# GET /openapi.json returns, checked above); requests go to the running stack.
DOCUMENTS = {"submission": submission_openapi.SPEC, "moderation": moderation_openapi.SPEC,
             "publishing": publishing_openapi.SPEC}
submission = schemathesis.openapi.from_dict(DOCUMENTS["submission"])
publishing = schemathesis.openapi.from_dict(DOCUMENTS["publishing"])
moderation = schemathesis.openapi.from_dict(DOCUMENTS["moderation"])


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
