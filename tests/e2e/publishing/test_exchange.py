"""The exchange (issue 15) end to end over HTTP against the real services: prompts,
stories in response, "this resonated with me", the author's second-language version
and the living glossary — each through the JSON API and the no-JavaScript pages."""

from __future__ import annotations

import html
import re
import uuid

import httpx

from tests.conftest import MARKER
from tests.e2e.publishing.flow import approve, publish, unique
from tests.e2e.submission.test_form import Browser
from tests.stack import Stack, loopback_source, wait_until

BODY = "A story long enough to be shared, about two kitchens and one family."


def _submit(stack: Stack, **story) -> httpx.Response:
    return httpx.post(stack.url("submission", "/api/stories"), json={"body": BODY} | story, timeout=30)


def _pub(stack: Stack, path: str, **kw) -> httpx.Response:
    return httpx.get(stack.url("publishing", path), timeout=10, **kw)


def _prompt(admin: httpx.Client, title: str, **extra) -> str:
    r = admin.post("/api/prompts", json={"title": title, "description": "Write about it."} | extra)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_prompts_from_moderation_to_the_form_the_feed_and_the_queue(stack: Stack, admin: httpx.Client) -> None:
    title = unique("A dish from each side ")
    pid = _prompt(admin, title)
    # Moderators only may publish: an anonymous client is refused.
    assert httpx.post(stack.url("moderation", "/api/prompts"), json={"title": "x"}, timeout=10).status_code == 401
    assert admin.post("/api/prompts", json={"title": ""}).status_code == 422
    # PromptPublished reaches publishing (/api/prompts, /prompts) and submission (the form offers it).
    wait_until(lambda: any(p["id"] == pid and p["open"] for p in _pub(stack, "/api/prompts").json()["items"]),
               20, 0.2, "prompt on publishing")
    assert title in html.unescape(_pub(stack, "/prompts").text)
    form = Browser(stack)
    wait_until(lambda: title in html.unescape(form.client.get("/").text), 20, 0.2, "prompt offered by the form")
    assert f'<option value="{pid}"' in form.client.get("/").text

    # A story for the prompt, by JSON; the moderator sees the prompt in the queue.
    story = unique("For the prompt ")
    assert _submit(stack, title=story, prompt_id=pid).status_code == 202
    item = wait_until(lambda: stack.queue_item(admin, story), 60, 0.2, "story in the queue")
    assert item["prompt"] == {"id": pid, "title": title}
    page = admin.get(f"/queue/{item['id']}")
    assert title in html.unescape(page.text)
    sid = approve(stack, admin, story)
    # ... and one by the no-JavaScript form.
    form_story = unique("Form prompt ")
    r = form.post("/stories", {"title": form_story, "body": BODY, "prompt_id": pid, "action": "send"})
    assert r.status_code == 201, r.text
    fid = approve(stack, admin, form_story)

    listed = _pub(stack, "/api/stories", params={"prompt": pid}).json()["items"]
    assert {s["id"] for s in listed} == {sid, fid}
    assert all(s["prompt"] == {"id": pid, "title": title} for s in listed)
    assert _pub(stack, "/api/stories", params={"prompt": "nope"}).status_code == 422
    prompt_page = html.unescape(_pub(stack, f"/prompts/{pid}").text)
    assert story in prompt_page and form_story in prompt_page and "Write for this prompt" in prompt_page
    assert f"/prompts/{pid}" in _pub(stack, f"/stories/{sid}").text
    assert _pub(stack, f"/prompts/{uuid.uuid4()}").status_code == 404

    # Unknown and closed prompts are refused.
    assert _submit(stack, title="x", prompt_id=str(uuid.uuid4())).json()["errors"].keys() == {"prompt_id"}
    assert admin.post(f"/api/prompts/{pid}/close", json={}).status_code == 200
    assert admin.post(f"/api/prompts/{pid}/close", json={}).status_code == 404
    wait_until(lambda: _submit(stack, title=unique("late "), prompt_id=pid).status_code == 422, 20, 0.3,
               "closed prompt refused")
    assert title not in html.unescape(form.client.get("/").text)
    assert "This prompt is closed" in _pub(stack, f"/prompts/{pid}").text
    # A prompt that opens later is not offered or listed yet.
    later = _prompt(admin, unique("Later prompt "), opens_on="2999-01-01")
    wait_until(lambda: any(p["id"] == later for p in admin.get("/api/prompts").json()["items"]), 5, 0.1, "listed")
    assert _submit(stack, title="x", prompt_id=later).status_code == 422
    assert all(p["id"] != later for p in _pub(stack, "/api/prompts").json()["items"])
    form.client.close()


def test_stories_in_response_link_both_ways_and_vanish_with_a_takedown(stack: Stack, admin: httpx.Client) -> None:
    parent_title = unique("Parent story ")
    parent, _ = publish(stack, admin, title=parent_title, body=BODY)
    # Only a published story can be answered.
    assert _submit(stack, title="x", in_response_to=str(uuid.uuid4())).status_code == 422
    assert _submit(stack, title="x", in_response_to="not-an-id").status_code == 422
    assert "Write a story in response" in _pub(stack, f"/stories/{parent}").text
    # The no-JavaScript path: the link opens the form with the story named.
    form = Browser(stack)
    page = form.client.get("/", params={"in_response_to": parent})
    assert parent_title in html.unescape(page.text)
    child_title = unique("Child story ")
    r = form.post("/stories", {"title": child_title, "body": BODY, "in_response_to": parent, "action": "send"})
    assert r.status_code == 201, r.text
    item = wait_until(lambda: stack.queue_item(admin, child_title), 60, 0.2, "response in the queue")
    assert item["in_response_to"] == parent
    # Not linked while in review.
    assert _pub(stack, f"/api/stories/{parent}").json()["responses"] == []
    child = approve(stack, admin, child_title)
    assert _pub(stack, f"/api/stories/{child}").json()["in_response_to"] == {"id": parent, "title": parent_title}
    assert _pub(stack, f"/api/stories/{parent}").json()["responses"] == [{"id": child, "title": child_title}]
    parent_page, child_page = _pub(stack, f"/stories/{parent}").text, _pub(stack, f"/stories/{child}").text
    assert "Stories in response (1)" in parent_page and f'href="/stories/{child}"' in parent_page
    assert "In response to" in child_page and f'href="/stories/{parent}"' in child_page
    # Taking the parent down removes the link from the response too.
    r = admin.post(f"/api/queue/{parent}/takedown", json={"reason": "Taken down for the test."})
    assert r.status_code == 200, r.text
    wait_until(lambda: _pub(stack, f"/stories/{parent}").status_code == 410, 20, 0.2, "parent gone")
    assert "in_response_to" not in _pub(stack, f"/api/stories/{child}").json()
    child_page = _pub(stack, f"/stories/{child}").text
    assert "In response to" not in child_page and parent not in child_page.replace(f"in_response_to={child}", "")
    # And a taken-down story can no longer be answered.
    wait_until(lambda: _submit(stack, title="y", in_response_to=parent).status_code == 422, 20, 0.2, "refused")
    form.client.close()


def test_resonance_counts_without_keeping_anyone(stack: Stack, admin: httpx.Client) -> None:
    sid, _ = publish(stack, admin, title=unique("Resonant "), body=BODY)
    assert _pub(stack, f"/api/stories/{sid}").json()["resonance"] == 0
    # The story page, rendered once and kept by the page cache (the second GET is served from memory) ...
    first = _pub(stack, f"/stories/{sid}")
    assert first.status_code == 200 and "felt the same" not in first.text
    assert _pub(stack, f"/stories/{sid}").text == first.text
    with httpx.Client(timeout=10, transport=httpx.HTTPTransport(local_address=loopback_source())) as reader:
        # A JSON API POST: Content-Type application/json (shared/edges.py), as exchange.js sends it.
        r = reader.post(stack.url("publishing", f"/api/stories/{sid}/resonate"), json={})
        assert r.status_code == 202 and r.json() == {"resonance": 1}
        # ... shows the press on the very next request, not a stale copy.
        assert "1 reader felt the same" in _pub(stack, f"/stories/{sid}").text
        assert _pub(stack, f"/api/stories/{sid}").json()["resonance"] == 1
        assert reader.post(stack.url("publishing", f"/api/stories/{sid}/resonate"),
                           content=b"", headers={"Content-Type": "text/plain"}).status_code == 415
        assert reader.post(stack.url("publishing", f"/api/stories/{uuid.uuid4()}/resonate"),
                           json={}).status_code == 404
        # Without JavaScript: the form posts and the page says thank you.
        page = reader.post(stack.url("publishing", f"/stories/{sid}/resonate"))
        assert page.status_code == 200 and "Thank you" in page.text and "set-cookie" not in page.headers
    assert _pub(stack, f"/api/stories/{sid}").json()["resonance"] == 2
    assert "2 readers felt the same" in _pub(stack, f"/stories/{sid}").text
    # A flood from one client stops at the per-client limit (20/minute by default).
    with httpx.Client(timeout=10, transport=httpx.HTTPTransport(local_address=loopback_source())) as flood:
        codes = [flood.post(stack.url("publishing", f"/api/stories/{sid}/resonate"), json={}).status_code
                 for _ in range(25)]
    assert codes[:20] == [202] * 20 and set(codes[20:]) == {429}
    # 22 presses: published to the nearest 5 above 20.
    assert _pub(stack, f"/api/stories/{sid}").json()["resonance"] == 20
    assert any(s["id"] == sid and s["resonance"] == 20 for s in _pub(stack, "/api/stories").json()["items"])
    # Cross-site presses are refused.
    assert httpx.post(stack.url("publishing", f"/api/stories/{sid}/resonate"), json={},
                      headers={"Sec-Fetch-Site": "cross-site"}, timeout=10).status_code == 403


def test_second_language_version_and_glossary(stack: Stack, admin: httpx.Client) -> None:
    title = unique("Dalawang kusina ")
    tr_title = unique("Two kitchens ")
    word = unique("zq")
    glossary = [{"term": "饺子", "meaning": "dumplings, folded at New Year with my Ma"},
                {"term": "lola", "meaning": "grandmother"}, {"term": "halmeoni", "meaning": "grandmother (Korean)"}]
    # Bad input: a message per field.
    bad = _submit(stack, title="x", lang="not a tag!", translation={"lang": "tl", "title": "t", "body": "short"},
                  glossary=[{"term": "x"}] * 3).json()["errors"]
    assert {"lang", "translation", "glossary"} <= bad.keys()
    assert "glossary" in _submit(stack, title="x", glossary=[{"term": f"t{i}", "meaning": "m"} for i in range(21)]
                                 ).json()["errors"]
    assert "translation" in _submit(stack, title="x", lang="tl",
                                    translation={"lang": "tl", "title": "t", "body": BODY}).json()["errors"]
    # The translation carries the word the test screen is trained to flag: both parts are screened.
    r = _submit(stack, title=title, body=f"Ang lola ko at ang 饺子 niya. {BODY}", lang="tl",
                translation={"lang": "en", "title": tr_title, "body": f"My lola and her {MARKER} {word}. {BODY}"},
                glossary=glossary)
    assert r.status_code == 202, r.text
    item = wait_until(lambda: stack.queue_item(admin, title), 60, 0.2, "in the queue")
    assert item["lang"] == "tl" and item["translation"]["title"] == tr_title and item["glossary"] == glossary
    assert item["screen"]["label"] in ("flagged", "held"), item["screen"]
    assert any(p.get("field") == "translation_body" for p in item["screen"]["passages"] + item["screen"]["term_hits"])
    page = html.unescape(admin.get(f"/queue/{item['id']}").text)
    assert tr_title in page and "dumplings, folded at New Year" in page
    # The moderator edits one term and removes another, like tags.
    r = admin.post(f"/api/queue/{item['id']}/decision", json={"decision": "approve", "glossary": [
        glossary[0], {"term": "lola", "meaning": "grandmother, my father's mother"}]})
    assert r.status_code == 200, r.text
    wait_until(lambda: stack.published(title), 20, 0.1, "published")
    sid = item["id"]
    story = _pub(stack, f"/api/stories/{sid}").json()
    assert story["lang"] == "tl" and story["translation"] == {"lang": "en", "title": tr_title,
                                                              "body": f"My lola and her {MARKER} {word}. {BODY}"}
    assert [g["term"] for g in story["glossary"]] == ["饺子", "lola"]
    assert story["glossary"][1]["meaning"] == "grandmother, my father's mother"

    # The story page: lang attributes, the switch, glossary markup reachable by keyboard.
    first = _pub(stack, f"/stories/{sid}").text
    assert re.search(r'<article class="story" lang="tl">', first)
    assert f'href="/stories/{sid}?version=translation" hreflang="en"' in first
    assert re.search(r'<a class="gloss" href="#gl-0" aria-describedby="gl-0-meaning"><abbr title="dumplings, '
                     r'folded at New Year with my Ma">饺子</abbr></a>', first)
    assert '<dt id="gl-1"><dfn>lola</dfn></dt>' in first and "halmeoni" not in first
    second = _pub(stack, f"/stories/{sid}", params={"version": "translation"}).text
    assert '<article class="story" lang="en">' in second and tr_title in html.unescape(second)
    # Search finds either version.
    assert any(s["id"] == sid for s in _pub(stack, "/api/stories", params={"q": word}).json()["items"])
    assert sid in _pub(stack, "/", params={"q": word}).text
    # The glossary page and its JSON.
    found = _pub(stack, "/api/glossary", params={"q": "father's mother"}).json()["items"]
    assert found == [{"term": "lola", "uses": [{"meaning": "grandmother, my father's mother",
                                                 "story": {"id": sid, "title": title}}]}]
    assert any(t["term"] == "饺子" for t in _pub(stack, "/api/glossary").json()["items"])
    gpage = html.unescape(_pub(stack, "/glossary", params={"q": "饺子"}).text)
    assert "<dfn>饺子</dfn>" in gpage and title in gpage
    assert _pub(stack, "/api/glossary", params={"q": "halmeoni"}).json()["items"] == []


def test_the_form_sends_every_exchange_field_without_javascript(stack: Stack, admin: httpx.Client) -> None:
    form = Browser(stack)
    title = unique("Form exchange ")
    bad = form.post("/stories", {"title": title, "body": BODY, "glossary": "no separator here", "action": "send"})
    assert bad.status_code == 422 and "term: meaning" in html.unescape(bad.text)
    r = form.post("/stories", {"title": title, "body": BODY, "lang": "vi", "tr_lang": "en",
                               "tr_title": "In English", "tr_body": BODY + " (in English)",
                               "glossary": "bánh chưng: sticky rice cake\nTết: new year", "action": "send"})
    assert r.status_code == 201, r.text
    item = wait_until(lambda: stack.queue_item(admin, title), 60, 0.2, "in the queue")
    assert item["lang"] == "vi" and item["translation"]["lang"] == "en"
    assert item["glossary"] == [{"term": "bánh chưng", "meaning": "sticky rice cake"},
                                {"term": "Tết", "meaning": "new year"}]
    form.client.close()
