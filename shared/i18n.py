"""The public interface in the community's languages (issue 15 point 6).

A request's language: `?lang=` when it names a shipped language, else the best
match in Accept-Language, else English. An explicit `?lang=` is remembered without
a cookie (public pages set none) by carrying it on every internal link and form
action the page renders (`url()` in the template context).

Catalogs are gettext: shared/locale/messages.pot is extracted from the sources
(`make translations`), each language's .po beside it, and the .mo files are compiled
at install, never committed. Translations are chosen per render through the
template context, never by changing the shared Jinja environment, so concurrent
requests in different languages cannot see each other's strings.
"""

from __future__ import annotations

import functools
import gettext as _gettext
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jinja2
from babel.dates import format_date
from babel.support import Translations
from markupsafe import Markup
from starlette.requests import Request

from shared.qvalues import quality_list

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT = "en"

# BCP 47 tag (URLs, <html lang>, hreflang) -> gettext/Babel locale (folder under locale/).
LOCALES: dict[str, str] = {
    "en": "en",
    "zh-Hans": "zh_Hans",
    "zh-Hant": "zh_Hant",
    "ja": "ja",
    "ko": "ko",
    "vi": "vi",
    "fil": "fil",
}
# Each language's name in its own language, for the switcher.
NAMES: dict[str, str] = {
    "en": "English",
    "zh-Hans": "简体中文",
    "zh-Hant": "繁體中文",
    "ja": "日本語",
    "ko": "한국어",
    "vi": "Tiếng Việt",
    "fil": "Filipino",
}
_BY_FOLD = {tag.casefold(): tag for tag in LOCALES}
# Chinese as browsers send it: the script is implied by the region.
_HANT_REGIONS = {"tw", "hk", "mo"}


def gettext_noop(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where
    it reaches a page (`gettext(message)` in the template)."""
    return message


class Later(str):
    """A message made in Python that may reach an HTML page: it reads as the English
    text (the JSON API sends it as it is), and keeps its msgid and values so the page
    can show it in the reader's language (`translate()` in the template context)."""

    msgid: str
    values: dict[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Later:
        obj = super().__new__(cls, msgid % values if values else msgid)
        obj.msgid, obj.values = msgid, values
        return obj


def gettext_later(msgid: str, **values: Any) -> Later:
    """Marks a message for extraction and keeps it translatable where it is shown;
    values fill `%(name)s` placeholders (numbers, never the member's own words)."""
    return Later(msgid, **values)


def ngettext_noop(singular: str, plural: str) -> tuple[str, str]:
    """Marks a plural message for extraction (babel.cfg: keyword ngettext_noop:1,2)."""
    return singular, plural


# The messages the member-facing scripts show (shared/static/site.js and the
# publishing service's exchange.js). Pages hand them over translated in a JSON
# block (no JavaScript i18n library, nothing inline for the CSP to refuse); a script
# falls back to its own English when a key is missing.
JS_MESSAGES: list[str] = [
    gettext_noop("All kept. You can send it when you are ready."),
    # Translators: %(kinds)s is a list such as “an email address, a phone number”.
    gettext_noop("Privacy check: your story has %(kinds)s. Preview shows where; keep it only if you are sure."),
    gettext_noop("an email address"),
    gettext_noop("a web address"),
    gettext_noop("a social media handle"),
    gettext_noop("a phone number"),
    # Translators: the story length counter while typing.
    gettext_noop("%(count)s characters — at least %(min)s needed"),
    gettext_noop("%(count)s characters — %(over)s over the limit of %(max)s"),
    gettext_noop("%(count)s of %(max)s characters"),
    gettext_noop("Copied. Paste it somewhere only you can see."),
    gettext_noop("Select the code and copy it by hand."),
    gettext_noop("It resonated with you"),
    gettext_noop("That did not work; please try again."),
]
JS_PLURALS: list[tuple[str, str]] = [
    ngettext_noop("%(num)s left to look at.", "%(num)s left to look at."),
    ngettext_noop("%(num)s reader felt the same, you included. Thank you.",
                  "%(num)s readers felt the same, you included. Thank you."),
]
# A count that lands on each plural form, in form order (the scripts pick the form
# with the same rule as the catalog's Plural-Forms header; see site.js pluralIndex).
_FORM_SAMPLES: dict[str, list[int]] = {"en": [1, 2], "fil": [1, 4]}


def js_messages(tag: str) -> dict[str, Any]:
    """The scripts' messages in `tag`; none for English, which the scripts carry
    themselves (English pages stay as they were, without the JSON block)."""
    if tag == DEFAULT:
        return {}
    t = translations(tag)
    out: dict[str, Any] = {m: t.gettext(m) for m in JS_MESSAGES}
    for singular, plural in JS_PLURALS:
        out[singular] = [t.ngettext(singular, plural, n) for n in _FORM_SAMPLES.get(tag, [1])]
    return out


def match(tag: str) -> str | None:
    """A shipped language for one language tag, or None. Accepts the usual spellings
    (ja-JP, zh-CN, zh-TW, zh-Hant-HK, tl for Filipino) case-insensitively."""
    folded = tag.strip().replace("_", "-").casefold()
    if not folded:
        return None
    if folded in _BY_FOLD:
        return _BY_FOLD[folded]
    parts = folded.split("-")
    primary = parts[0]
    if primary == "zh":
        rest = set(parts[1:])
        if "hant" in rest or (rest & _HANT_REGIONS and "hans" not in rest):
            return "zh-Hant"
        return "zh-Hans"
    if primary == "tl":
        return "fil"
    return _BY_FOLD.get(primary)


def from_accept_language(header: str | None) -> str | None:
    """The shipped language the header prefers most (by q, then order), or None."""
    if not header:
        return None
    items = quality_list(header, limit=32)  # bounded: the header is the client's
    ranked = [(-q, i, tag) for i, (tag, q) in enumerate(items) if q > 0 and tag and tag != "*"]
    for _, _, tag in sorted(ranked):
        if (found := match(tag)) is not None:
            return found
    return None


def choose(request: Request) -> tuple[str, bool]:
    """The request's language and whether it was chosen explicitly with ?lang=."""
    asked = request.query_params.get("lang")
    if asked and (found := match(asked)) is not None:
        return found, True
    return from_accept_language(request.headers.get("accept-language")) or DEFAULT, False


@functools.cache
def translations(tag: str) -> _gettext.NullTranslations:
    """A language's compiled catalog, loaded once. English is the source: no catalog."""
    if tag == DEFAULT or tag not in LOCALES:
        return _gettext.NullTranslations()
    # Without a compiled .mo (install not run) Babel gives NullTranslations: English.
    return Translations.load(str(LOCALE_DIR), [LOCALES[tag]], DOMAIN)


# Jinja's newstyle gettext, bound to one catalog: `%(name)s` placeholders are filled
# (and escaped) by the call, so a catalog that drops or misspells one fails loudly.
def _newstyle(t: _gettext.NullTranslations) -> dict[str, Callable[..., str]]:
    @jinja2.pass_context
    def gettext(__context: jinja2.runtime.Context, __string: str, **variables: Any) -> str:
        rv = t.gettext(__string)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    @jinja2.pass_context
    def ngettext(__context: jinja2.runtime.Context, __singular: str, __plural: str, __num: int,
                 **variables: Any) -> str:
        variables.setdefault("num", __num)
        rv = t.ngettext(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    @jinja2.pass_context
    def pgettext(__context: jinja2.runtime.Context, __ctx: str, __string: str, **variables: Any) -> str:
        rv = t.pgettext(__ctx, __string)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    def tr(message: str | None) -> str:
        """A message made in Python (a form error, a finding's label) in this language:
        looked up as it is, never %-formatted, since it may already hold the member's
        own words. Messages not in the catalog (with values filled in) stay as they are."""
        if not message:
            return ""
        if isinstance(message, Later):
            return t.gettext(message.msgid) % message.values if message.values else t.gettext(message.msgid)
        return t.gettext(message)

    def labels(values: list[str] | None) -> str:
        """Content warnings or tags for one line: the fixed ones (shared/taxonomy.py)
        in this language, the author's own as she wrote them."""
        return ", ".join(tr(v) for v in values or ())

    return {"gettext": gettext, "_": gettext, "ngettext": ngettext, "pgettext": pgettext, "translate": tr,
            "labels": labels}


@functools.cache
def _callables(tag: str) -> dict[str, Callable[..., str]]:
    return _newstyle(translations(tag))


def _day(tag: str, d: Any) -> str:
    """A publication day as the language writes it; English keeps its "6 December 2026"."""
    if tag == DEFAULT:
        return d.strftime("%-d %B %Y")
    return format_date(d, format="long", locale=LOCALES[tag])


@functools.cache
def _js_cached(tag: str) -> dict[str, Any]:
    return js_messages(tag)


def with_lang(path: str, tag: str) -> str:
    """`path` with lang=tag in its query (replacing any lang there), fragment kept."""
    path, hash_, fragment = path.partition("#")
    base, _, query = path.partition("?")
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "lang"] + [("lang", tag)]
    return f"{base}?{urlencode(pairs)}{hash_}{fragment}"


def install(env: jinja2.Environment) -> None:
    """The i18n extension in newstyle mode with English as the default, so a template
    rendered without a request's language (moderation, the Atom feed) reads English."""
    env.add_extension("jinja2.ext.i18n")
    # Whitespace inside {% trans %} is collapsed: msgids stay one clean line for translators.
    env.policies["ext.i18n.trimmed"] = True
    null = _gettext.NullTranslations()
    env.install_gettext_callables(  # type: ignore[attr-defined]
        null.gettext, null.ngettext, newstyle=True, pgettext=null.pgettext)
    env.globals.update(lang=DEFAULT, url=lambda path: path, lang_explicit=False, translate=lambda m: m or "",
                       labels=lambda values: ", ".join(values or ()),
                       day=lambda d: d.strftime("%-d %B %Y"))


def context(request: Request) -> dict[str, Any]:
    """What a public page needs to speak the request's language (a Starlette
    context processor; also merged by hand where a page is rendered directly)."""
    cached = getattr(request.state, "i18n", None)
    if cached is not None:
        return cached
    tag, explicit = choose(request)

    def url(path: str) -> str:
        return with_lang(path, tag) if explicit else path

    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    ctx: dict[str, Any] = {
        "lang": tag,
        "lang_explicit": explicit,
        "url": url,
        "languages": [(t, NAMES[t], with_lang(here, t)) for t in LOCALES],
        "js_messages": _js_cached(tag),
        "day": functools.partial(_day, tag),
        **_callables(tag),
    }
    request.state.i18n = ctx
    return ctx
