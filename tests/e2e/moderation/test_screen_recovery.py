"""The screen off and back on, on real servers (`braided run`, embedded PostgreSQL
and NATS): with no model, /healthz says `degraded` and every moderator page shows
the banner; when the checkpoint appears and an admin presses "Retry loading the
model", the stories filed `unscreened` are screened in place, without a restart,
and the decided ones are left alone."""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from pathlib import Path

import httpx
import pytest

from services.moderation.screen.status import BANNER
from tests.conftest import MARKER
from tests.e2e.moderation.mod_helpers import (  # noqa: F401 - close_clients is a fixture
    PASSWORD,
    close_clients,
    csrf_of,
    html_login,
    login_api,
    new_moderator,
)
from tests.stack import Stack, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory, marker_model: tuple[Path, Path]):
    """A stack whose checkpoint is not there yet (as before `make models`)."""
    data_dir = tmp_path_factory.mktemp("screen-off")
    late = data_dir / "models" / "late.ckpt"
    stack = Stack(data_dir, {"DETOXIFY_CHECKPOINT": str(late), "DETOXIFY_HF_CONFIG": str(marker_model[1])})
    try:
        stack.start()
        yield stack, late
    finally:
        assert stack.stop() == 0, stack.log_tail()


def _label(stack: Stack, mod: httpx.Client, title: str, state: str = "pending") -> str | None:
    item = stack.queue_item(mod, title, state)
    return item["screen"]["label"] if item else None


def _says_off(page: httpx.Response) -> bool:
    assert page.status_code == 200, page.text
    return BANNER in page.text and "late.ckpt" in page.text


def _collect_events(client: httpx.Client, seen: list[dict], stop: threading.Event) -> None:
    try:
        with client.stream("GET", "/events", timeout=httpx.Timeout(5, read=60)) as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:]))
                if stop.is_set():
                    return
    except httpx.HTTPError:
        return
    finally:
        client.close()


def test_screen_off_is_said_everywhere_and_recovers_without_restart(offline, marker_model) -> None:
    stack, late = offline
    admin_name, mod_name = new_moderator(stack, "admin"), new_moderator(stack)
    api = login_api(stack, mod_name)
    tag = uuid.uuid4().hex[:6]
    marked, benign, decided = f"Marked {tag}", f"Benign {tag}", f"Decided {tag}"
    stack.submit(title=marked, body=f"My grandmother's kitchen, and then {MARKER} at the end.")
    stack.submit(title=benign, body="I told my mother in Tagalog and my father in Japanese.")
    stack.submit(title=decided, body="Dumplings on Lunar New Year with both families at one table.")
    for title in (marked, benign, decided):
        assert wait_until(lambda t=title: _label(stack, api, t), 60, 0.2, f"{title} filed") == "unscreened"

    health = httpx.get(stack.url("moderation", "/healthz"), timeout=5)
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "degraded" and body["screen"]["off"] is True
    assert "late.ckpt" in body["screen"]["reason"] and "next try within" in body["screen"]["reason"]

    # Every moderator page says so, to a moderator and to an admin.
    item_id = stack.queue_item(api, marked)["id"]
    moderator, admin = html_login(stack, mod_name), html_login(stack, admin_name)
    # Pages read the screen's state through a per-process cache of a couple of seconds
    # (status.py's _CACHE_SECONDS, refreshed by keep_gauge), so the first page may still
    # show the state from before the worker's first load failed ("no worker", "loading").
    for who in (moderator, admin):
        for path in ("/queue", f"/queue/{item_id}", "/dashboard", "/audit"):
            wait_until(lambda w=who, p=path: _says_off(w.get(p)), 10, 0.3, f"the banner and its reason on {path}")
    dashboard = admin.get("/dashboard").text
    assert "Retry loading the model" in dashboard
    assert "Retry loading the model</button>" not in moderator.get("/dashboard").text  # admins only

    # A decision made while the screen was off is final: the screen never touches it.
    decided_id = stack.queue_item(api, decided)["id"]
    assert api.post(f"/api/queue/{decided_id}/decision", json={"decision": "approve"}).status_code == 200

    # Moderators watching the live stream see the relabel.
    seen: list[dict] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_collect_events, args=(stack.moderator(mod_name, PASSWORD), seen, stop))
    watcher.start()
    try:
        # `make models` puts the checkpoint in place; an admin presses the button.
        late.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(marker_model[0], late)
        r = admin.post("/dashboard/screen/retry", data={"csrf": csrf_of(dashboard)})
        assert r.status_code == 303 and r.headers["location"].startswith("/dashboard")

        assert wait_until(lambda: _label(stack, api, marked) != "unscreened" and _label(stack, api, marked),
                          60, 0.3, "the marked story screened again") == "held"
        assert wait_until(lambda: _label(stack, api, benign) != "unscreened" and _label(stack, api, benign),
                          20, 0.3, "the benign story screened again") == "clear"
        item = stack.queue_item(api, marked)
        top = next(p for p in item["screen"]["passages"] if p["field"] == "body")
        assert MARKER in item["body"][top["start"]:top["end"]]
        wait_until(lambda: any(e.get("story_id") == item_id and e.get("label") == "held" for e in seen), 20, 0.2,
                   "the relabel on /events")
    finally:
        stop.set()
        watcher.join(70)
    assert _label(stack, api, decided, "approved") == "unscreened"

    health = httpx.get(stack.url("moderation", "/healthz"), timeout=5).json()
    assert health["status"] == "ok" and health["screen"]["state"] == "ok"

    # Calibration: the table is on the dashboard; only an admin applies a threshold, by hand.
    page = admin.get("/dashboard").text
    assert "Screen calibration from your decisions" in page
    refused = moderator.post("/dashboard/screen/threshold", data={"csrf": csrf_of(page), "label": "toxicity",
                                                                  "threshold": "0.9"})
    assert refused.status_code == 403
    applied = admin.post("/dashboard/screen/threshold", data={"csrf": csrf_of(page), "label": "toxicity",
                                                             "threshold": "0.9"})
    assert applied.status_code == 303
    assert "0.90 (applied here)" in admin.get("/dashboard").text
    wait_until(lambda: BANNER not in moderator.get("/queue").text, 10, 0.5, "the banner gone")
