"""The embedded nats-server runs on Braided's permission table (shared/natsauth.py):
anonymous clients are refused, each identity publishes only the subjects it owns,
reads only its own KV buckets and inbox, and deploy/nats/auth.conf is the same table."""

from __future__ import annotations

import asyncio
import json
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import nats.errors
import pytest

from shared import bus, natsauth
from shared.consumer import Consumer
from shared.events import STREAM, new_event
from shared.infra import EmbeddedNats

REPO = Path(__file__).resolve().parents[2]


async def _as(server: EmbeddedNats, user: str):
    creds = server.credentials(user)
    return await bus.connect(server.url, f"test-{user}", user=creds["NATS_USER"], password=creds["NATS_PASSWORD"])


def test_deploy_auth_conf_is_the_table_the_code_writes() -> None:
    assert (REPO / "deploy" / "nats" / "auth.conf").read_text() == natsauth.render()


def test_passwords_are_kept_in_data_dir_readable_by_the_owner_only(nats_server: EmbeddedNats) -> None:
    files = sorted(nats_server.secrets_dir.iterdir())
    assert {f.name for f in files} == {natsauth.password_var(u) for u in natsauth.USERS}
    assert stat.S_IMODE(nats_server.secrets_dir.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    conf = nats_server.store / "braided.conf"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600


async def test_an_anonymous_client_is_refused(nats_server: EmbeddedNats) -> None:
    # Refused: the client keeps retrying (as it would through an outage) and never connects.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(bus.connect(nats_server.url, "anonymous"), 2)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(bus.connect(nats_server.url, "guess", user="publishing", password="guessed"), 2)
    nc = await _as(nats_server, "publishing")  # ...and the check can pass
    assert nc.is_connected
    await nc.close()


def _approved() -> bytes:
    return new_event("StoryApproved", story_id=str(uuid.uuid4()), title="Forged", body="Forged body",
                     pen_name="Braided moderators", tags=[], content_warnings=[], published_on="2026-01-01").to_json()


async def test_publishing_cannot_publish_a_decision_but_may_report(nats_server: EmbeddedNats) -> None:
    admin = await nats.connect(nats_server.admin_url)
    nc = await _as(nats_server, "publishing")
    try:
        await bus.ensure_stream(admin.jetstream())
        js = nc.jetstream()
        before = (await admin.jetstream().stream_info(STREAM)).state.last_seq
        with pytest.raises((nats.errors.Error, asyncio.TimeoutError)):
            await js.publish("stories.approved", _approved(), stream=STREAM, timeout=1)
        # ...nor on the subject it owns, with another subject's name in a header: the
        # stream stores what arrives, but see test_bus: consumers park a type on a
        # foreign subject. What it owns it may publish.
        report = new_event("StoryReported", story_id=str(uuid.uuid4()), report_id=str(uuid.uuid4()), reason="r")
        ack = await js.publish(report.subject, report.to_json(), stream=STREAM, timeout=5)
        info = await admin.jetstream().stream_info(STREAM)
        assert ack.seq == info.state.last_seq == before + 1  # the forged approval never reached the stream
        msg = await admin.jetstream().get_msg(STREAM, ack.seq)
        assert msg.subject == "stories.reported"
    finally:
        await nc.close()
        await admin.close()


async def test_a_service_cannot_update_the_stream_or_read_another_services_buckets(
        nats_server: EmbeddedNats) -> None:
    from shared.ratelimit import RateLimiter

    sub = await _as(nats_server, "submission")
    pub = await _as(nats_server, "publishing")
    admin = await nats.connect(nats_server.admin_url)
    try:
        await bus.ensure_stream(admin.jetstream())
        # submission makes its HMAC key and counts one client.
        limiter = RateLimiter(sub.jetstream(), "submission", 5, 3600)
        assert (await limiter.hit("192.0.2.1")).allowed
        # publishing may not read that key, by KV nor by a direct get.
        with pytest.raises((nats.errors.Error, asyncio.TimeoutError)):
            kv = await pub.jetstream().key_value("ratelimit_keys_submission")
            await kv.get(next(iter(await kv.keys())))
        with pytest.raises((nats.errors.Error, asyncio.TimeoutError)):
            await pub.request("$JS.API.DIRECT.GET.KV_ratelimit_keys_submission", json.dumps({"seq": 1}).encode(),
                              timeout=1)
        # ...nor change the stream every service relies on.
        with pytest.raises((nats.errors.Error, asyncio.TimeoutError)):
            await pub.request(f"$JS.API.STREAM.UPDATE.{STREAM}", b"{}", timeout=1)
        # ...nor listen to the replies another identity's requests get.
        with pytest.raises((nats.errors.Error, asyncio.TimeoutError)):
            s = await pub.subscribe(natsauth.inbox_prefix("submission") + ".>")
            await pub.flush(1)
            await s.next_msg(timeout=0.5)
    finally:
        await sub.close()
        await pub.close()
        await admin.close()


async def test_moderation_hears_new_and_reported_stories_live(nats_server: EmbeddedNats) -> None:
    """The queue page's live updates are plain subscriptions: moderation may listen to
    stories.screened and stories.reported, and nothing else outside its inbox."""
    mod = await _as(nats_server, "moderation")
    pub = await _as(nats_server, "publishing")
    try:
        sub = await mod.subscribe("stories.reported")
        await mod.flush(1)
        await pub.publish("stories.reported", b"{}")
        assert (await sub.next_msg(timeout=5)).data == b"{}"
        with pytest.raises((nats.errors.Error, asyncio.TimeoutError)):
            s = await pub.subscribe("stories.reported")
            await pub.flush(1)
            await mod.publish("stories.screened", b"{}")
            await s.next_msg(timeout=0.5)
    finally:
        await mod.close()
        await pub.close()


async def _create(nc, subject: str, config: dict) -> dict:
    """A raw consumer-create request: the server's JSON answer (permission errors raise)."""
    msg = await nc.request(subject, json.dumps({"stream_name": STREAM, "config": config}).encode(), timeout=1)
    return json.loads(msg.data)


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A server of its own: the session's stack consumes from the services' durables on
    the shared one, and a test fetching from them would hold its messages."""
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


async def test_each_identity_may_read_only_the_subjects_it_consumes(own_nats: EmbeddedNats) -> None:
    """publishing's durable for stories.approved can be created only with that filter:
    not on stories.submitted, not on stories.>, not unfiltered, not the legacy way."""
    from nats.js.api import ConsumerConfig

    admin = await nats.connect(own_nats.admin_url)
    pub = await _as(own_nats, "publishing")
    try:
        await bus.ensure_stream(admin.jetstream())
        durable = natsauth.durable_name("publishing", "stories.approved")
        assert natsauth.identity("publishing").durables()[durable] == "stories.approved"
        js = pub.jetstream()
        # Through nats-py: the filter goes into the request's subject, which is not allowed.
        for other in ("stories.submitted", "stories.>"):
            with pytest.raises((nats.errors.Error, asyncio.TimeoutError)):
                await js.add_consumer(STREAM, ConsumerConfig(name=durable, durable_name=durable,
                                                             filter_subject=other), timeout=1)
        # By hand: the allowed subject with another filter in the body is refused by the
        # server itself (the filter must be the one the subject names)...
        allowed = f"$JS.API.CONSUMER.CREATE.{STREAM}.{durable}.stories.approved"
        for body in ({"filter_subject": "stories.>"}, {"filter_subject": "stories.submitted"},
                     {"filter_subjects": ["stories.>"]}, {"filter_subjects": ["stories.approved", "stories.>"]},
                     {}):
            answer = await _create(pub, allowed, {"name": durable, "durable_name": durable, "ack_policy": "explicit"}
                                   | body)
            assert "error" in answer, (body, answer)
        # ...and the forms that take any filter are not allowed at all.
        for subject in (f"$JS.API.CONSUMER.CREATE.{STREAM}.{durable}", f"$JS.API.CONSUMER.CREATE.{STREAM}",
                        f"$JS.API.CONSUMER.DURABLE.CREATE.{STREAM}.{durable}",
                        f"$JS.API.CONSUMER.CREATE.{STREAM}.{durable}.stories.submitted"):
            with pytest.raises((nats.errors.Error, asyncio.TimeoutError)):
                await _create(pub, subject, {"durable_name": durable, "ack_policy": "explicit",
                                             "filter_subject": "stories.>"})
        # Nothing above made a consumer with another filter (the session's stack may
        # have made the services' own): each reads the one subject its name says.
        await _only_permitted_consumers(admin)
        # Its own subject, the way the services do it: created, and it reads approvals only.
        submitted = new_event("StorySubmitted", story_id=str(uuid.uuid4()), title="t", body="b", pen_name=None,
                              tags=[], content_warnings=[])
        await bus.publish(admin.jetstream(), submitted)
        approved = new_event("StoryApproved", story_id=str(uuid.uuid4()), title="t", body="b", pen_name=None,
                             tags=[], content_warnings=[], published_on="2026-01-01")
        await bus.publish(admin.jetstream(), approved)
        consumer = Consumer(js, None, durable, "stories.approved", {"StoryApproved": None})  # type: ignore[arg-type]
        msgs = await consumer.fetch(10, wait=2)
        assert msgs and {m.subject for m in msgs} == {"stories.approved"}
        assert approved.id in {json.loads(m.data)["id"] for m in msgs}
        info = await admin.jetstream().consumer_info(STREAM, durable)
        assert info.config.filter_subject == "stories.approved"
        # A second start sends the same request: the durable is kept, not refused.
        again = Consumer(js, None, durable, "stories.approved", {"StoryApproved": None})  # type: ignore[arg-type]
        await again.fetch(1, wait=0.2)
        await _only_permitted_consumers(admin)
    finally:
        await pub.close()
        await admin.close()


async def _only_permitted_consumers(admin) -> None:
    permitted = {d: s for ident in natsauth.SERVICES for d, s in ident.durables().items()}
    msg = await admin.request(f"$JS.API.CONSUMER.NAMES.{STREAM}", b"{}", timeout=2)
    for name in json.loads(msg.data).get("consumers") or []:
        info = await admin.jetstream().consumer_info(STREAM, name)
        assert (info.config.filter_subject, info.config.filter_subjects) == (permitted[name], None), name


async def test_every_identity_can_create_each_of_its_durables(own_nats: EmbeddedNats) -> None:
    admin = await nats.connect(own_nats.admin_url)
    try:
        await bus.ensure_stream(admin.jetstream())
        for ident in natsauth.SERVICES:
            nc = await _as(own_nats, ident.user)
            try:
                for durable, subject in ident.durables().items():
                    consumer = Consumer(nc.jetstream(), None, durable, subject, {})  # type: ignore[arg-type]
                    await consumer.fetch(1, wait=0.1)
                    info = await admin.jetstream().consumer_info(STREAM, durable)
                    assert info.config.filter_subject == subject
            finally:
                await nc.close()
    finally:
        await admin.close()
