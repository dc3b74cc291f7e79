"""The catalogs and the language choice (shared/i18n.py, issue 15 point 6).

test_catalog_is_complete fails for a language until its translators have written
every message: run it for one language with -k, e.g. `-k "complete and ja"`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from starlette.requests import Request

from shared import i18n

ROOT = Path(__file__).resolve().parents[2]
POT = i18n.LOCALE_DIR / "messages.pot"
SHIPPED = [t for t in i18n.LOCALES if t != i18n.DEFAULT]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _read(path: Path):  # noqa: ANN202 - babel's Catalog
    with path.open("rb") as f:
        return read_po(f)


def _ids(catalog) -> set[str]:  # noqa: ANN001
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


@pytest.mark.parametrize("tag", SHIPPED)
def test_catalog_is_complete(tag: str) -> None:
    """Every message of the .pot translated (not empty, not fuzzy), with the same
    placeholders, and every plural form written."""
    pot = _read(POT)
    po = _read(i18n.LOCALE_DIR / i18n.LOCALES[tag] / "LC_MESSAGES" / "messages.po")
    problems = []
    for m in pot:
        if not m.id:
            continue
        t = po.get(m.id)
        key = m.id if isinstance(m.id, str) else m.id[0]
        if t is None:
            problems.append(f"missing: {key!r}")
            continue
        strings = list(t.string) if isinstance(t.string, tuple | list) else [t.string]
        if t.fuzzy or not all(strings):
            problems.append(f"untranslated or fuzzy: {key!r}")
            continue
        if isinstance(m.id, tuple) and len(strings) != po.num_plurals:
            problems.append(f"{po.num_plurals} plural forms needed: {key!r}")
        wanted = set(PLACEHOLDER.findall(" ".join(m.id if isinstance(m.id, tuple) else [m.id])))
        for s in strings:
            if set(PLACEHOLDER.findall(s)) != wanted - ({"num"} if isinstance(m.id, tuple) else set()) and \
                    set(PLACEHOLDER.findall(s)) != wanted:
                problems.append(f"placeholders {sorted(wanted)} differ in {s!r}")
    assert not problems, f"{tag}: {len(problems)} problems\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("tag", SHIPPED)
def test_catalog_plural_forms(tag: str) -> None:
    """Each .po carries Babel's (CLDR's) plural rule for its language."""
    po = _read(i18n.LOCALE_DIR / i18n.LOCALES[tag] / "LC_MESSAGES" / "messages.po")
    assert po.num_plurals == (2 if tag == "fil" else 1)


def test_pot_is_up_to_date(tmp_path: Path) -> None:
    """The committed .pot holds exactly the messages in the sources (run `make translations`)."""
    out = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg",
                    "-k", "gettext_noop", "-k", "gettext_later", "-k", "ngettext_noop:1,2", "-o", str(out), "."],
                   cwd=ROOT, check=True, capture_output=True)
    assert _ids(_read(out)) == _ids(_read(POT))


def test_every_po_has_every_msgid_of_the_pot() -> None:
    """The catalogs were updated after the last extract (translators have a slot for each message)."""
    pot = _ids(_read(POT))
    for tag in SHIPPED:
        assert _ids(_read(i18n.LOCALE_DIR / i18n.LOCALES[tag] / "LC_MESSAGES" / "messages.po")) >= pot, tag


@pytest.mark.parametrize(("header", "expected"), [
    ("ko", "ko"), ("ko-KR,ko;q=0.9,en;q=0.8", "ko"), ("zh-TW", "zh-Hant"), ("zh-CN", "zh-Hans"),
    ("zh-Hant-HK", "zh-Hant"), ("zh", "zh-Hans"), ("tl", "fil"), ("fil-PH", "fil"), ("vi;q=0.5, ja;q=0.8", "ja"),
    ("de, fr;q=0.9", None), ("", None), ("*", None), ("en-GB", "en"), ("ja;q=0, vi", "vi"), ("ja;q=x", None),
])
def test_accept_language(header: str, expected: str | None) -> None:
    assert i18n.from_accept_language(header) == expected


def _request(query: bytes = b"", accept: bytes = b"") -> Request:
    return Request({"type": "http", "method": "GET", "path": "/tags", "query_string": query, "root_path": "",
                    "headers": [(b"accept-language", accept), (b"host", b"x")], "scheme": "http",
                    "server": ("x", 80)})


def test_explicit_lang_wins_and_is_carried_on_links() -> None:
    ctx = i18n.context(_request(b"lang=ja", b"ko"))
    assert ctx["lang"] == "ja" and ctx["lang_explicit"]
    assert ctx["url"]("/stories/1#top") == "/stories/1?lang=ja#top"
    assert ctx["url"]("/?cursor=a&lang=ko") == "/?cursor=a&lang=ja"
    ctx = i18n.context(_request(b"lang=xx", b""))
    assert ctx["lang"] == "en" and not ctx["lang_explicit"] and ctx["url"]("/a") == "/a"
    ctx = i18n.context(_request(b"", b"ko"))
    assert ctx["lang"] == "ko" and ctx["url"]("/a") == "/a"


def test_renders_in_two_languages_share_one_environment_without_leaking() -> None:
    """Each render takes its language from its own context: the shared environment is
    never changed per request, so interleaved renders cannot see each other's strings."""
    import gettext

    import jinja2

    env = jinja2.Environment(autoescape=True)
    i18n.install(env)
    t = env.from_string('<p lang="{{ lang }}">{% trans count=n %}{{ count }} story{% pluralize %}'
                        '{{ count }} stories{% endtrans %} {{ _("Hi %(who)s", who=who) }}</p>')

    class Upper(gettext.NullTranslations):
        def gettext(self, message: str) -> str:
            return {"Hi %(who)s": "HI %(who)s"}.get(message, message)

        def ngettext(self, singular: str, plural: str, n: int) -> str:
            return "%(count)s STORIES"

    upper = i18n._newstyle(Upper())
    english = i18n._newstyle(gettext.NullTranslations())
    a = t.render(lang="xx", n=2, who="<b>", **upper)
    b = t.render(lang="en", n=1, who="you", **english)
    assert a == '<p lang="xx">2 STORIES HI &lt;b&gt;</p>'  # placeholders filled after translating, and escaped
    assert b == '<p lang="en">1 story Hi you</p>'
    assert env.from_string("{{ _('Hi') }} {{ lang }}").render() == "Hi en"  # the defaults are untouched


def test_script_messages() -> None:
    assert i18n.js_messages("en") == {}  # English pages carry no block; the scripts hold their English
    fil = i18n.js_messages("fil")
    assert set(fil) == set(i18n.JS_MESSAGES) | {s for s, _ in i18n.JS_PLURALS}
    assert all(len(fil[s]) == 2 for s, _ in i18n.JS_PLURALS)  # fil: two plural forms, in catalog order
    assert all(len(i18n.js_messages("ja")[s]) == 1 for s, _ in i18n.JS_PLURALS)


def test_later_messages_read_as_english_and_translate_where_shown() -> None:
    m = i18n.gettext_later("Keep the title to %(max)s characters or fewer (it has %(count)s).", max=200, count=250)
    assert m == "Keep the title to 200 characters or fewer (it has 250)." and isinstance(m, str)
    assert i18n._newstyle(i18n.translations("en"))["translate"](m) == m
    assert i18n._newstyle(i18n.translations("ja"))["translate"]("100% sure") == "100% sure"  # never %-formatted
