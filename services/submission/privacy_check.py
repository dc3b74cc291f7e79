"""The privacy check before sending (issue 14): details in a story that could
identify its author or someone else, shown in the preview with "Keep" / "Edit".

It only advises: nothing is ever blocked, and nothing leaves submission (no other
service, no network). The same kinds are looked for by the page's script while
the member types (shared/static/site.js); this is the check that also works
without JavaScript, on the preview request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from shared.i18n import gettext_later

KINDS = {
    "email": gettext_later("an email address"),
    "phone": gettext_later("a phone number"),
    "url": gettext_later("a web address"),
    "handle": gettext_later("a social media handle"),
    "address": gettext_later("a street address"),
    "postcode": gettext_later("a postcode"),
    "birth_date": gettext_later("a date of birth"),
    "name": gettext_later("what looks like a person's full name"),
}
MAX_FINDINGS = 30

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{1,29})\b")
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().\-]{5,20}\d(?!\w)")
_STREET_WORDS = (r"Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|Lane|Ln\.?|Boulevard|Blvd\.?|Drive|Dr\.?|Way|Court|Ct\.?|"
                 r"Place|Pl\.?|Terrace|Close|Crescent|Highway|Hwy\.?|Straße|Strasse|Calle|Rue|Jalan|Đường|Phố")
_ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?\s+(?:[A-Z][\w'’-]*\s+){{1,4}}(?:{_STREET_WORDS})(?!\w)"
    rf"|\b(?:Rue|Calle|Jalan|Đường|Phố)\s+(?:[A-Z][\w'’-]*\s*){{1,4}}\d{{0,5}}", re.UNICODE)
_POSTCODE = re.compile(
    r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b"        # United Kingdom
    r"|\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b"                 # Canada
    r"|\b[A-Z]{2}\s\d{5}(?:-\d{4})?\b"               # United States, after the state
    r"|〒\s?\d{3}-\d{4}|\b\d{3}-\d{4}\b(?=\s|$|[,.])"  # Japan
)
_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December|"
           "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
_DATE = (rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\.?,?\s+\d{{4}}|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?"
         rf"\s+\d{{4}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:19|20)\d{{2}}|(?:19|20)\d{{2}}-\d{{2}}-\d{{2}})")
_BIRTH = re.compile(rf"(?:\b(?:born(?:\s+on)?|date\s+of\s+birth|DOB|birthday(?:\s+is)?)[:\s]+{_DATE})|\b{_DATE}",
                    re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z][a-z'’]+(?:[ \t]+[A-Z][a-z'’]+){1,2}\b")
# Capitalised pairs that are not people: sentence starts, days, months, places
# and words every story uses.
_NOT_NAMES = frozenset("""I My Me We Our The A An And But So Then When While After Before Every This That These
Those There Here It Its In On At To For From With Without Of By As If Or Not No Yes Dear Hello Thank Thanks Mum Mom
Dad Grandma Grandpa Lola Lolo Auntie Aunt Uncle Monday Tuesday Wednesday Thursday Friday Saturday Sunday January
February March April May June July August September October November December New Year Lunar Christmas Eid Diwali
God Lord Braided Asian American British Chinese Japanese Korean Vietnamese Filipino Indian Pakistani Thai Malaysian
Indonesian Singaporean Cantonese Mandarin Tagalog Hindi Urdu Bengali English Pride Street Road""".split())


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str
    field: str  # title, body or pen_name

    @property
    def label(self) -> str:
        return KINDS[self.kind]


def _phone_numbers(text: str) -> list[str]:
    """Phone numbers of any region: candidates by shape, then kept when the
    `phonenumbers` library finds them valid for some region (international
    numbers by their own +code)."""
    found = []
    for m in _PHONE_CANDIDATE.finditer(text):
        raw = m.group(0).strip()
        digits = re.sub(r"\D", "", raw)
        if not 7 <= len(digits) <= 15 or re.fullmatch(r"(?:19|20)\d{2}", digits):
            continue
        regions = [None] if raw.startswith("+") else sorted(phonenumbers.SUPPORTED_REGIONS)
        for region in regions:
            try:
                number = phonenumbers.parse(raw, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                found.append(raw)
                break
    return found


def _in_any(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(a < span[1] and span[0] < b for a, b in taken)


def find_in(text: str, field: str) -> list[Finding]:
    out: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, pattern: re.Pattern[str]) -> None:
        for m in pattern.finditer(text):
            if not _in_any(m.span(), taken):
                taken.append(m.span())
                out.append(Finding(kind, m.group(0).strip(), field))

    add("email", _EMAIL)
    add("url", _URL)
    add("handle", _HANDLE)
    add("birth_date", _BIRTH)
    add("address", _ADDRESS)
    add("postcode", _POSTCODE)
    for raw in _phone_numbers(text):
        start = text.find(raw)
        if not _in_any((start, start + len(raw)), taken):
            taken.append((start, start + len(raw)))
            out.append(Finding("phone", raw, field))
    for m in _NAME.finditer(text):
        words = m.group(0).split()
        if _in_any(m.span(), taken) or any(w in _NOT_NAMES for w in words):
            continue
        out.append(Finding("name", m.group(0), field))
    return out


def check(title: str, body: str, pen_name: str | None) -> list[Finding]:
    """Every finding in the story's fields (pen name, title, body), each detail once."""
    seen, out = set(), []
    for field, text in (("pen_name", pen_name or ""), ("title", title), ("body", body)):
        for f in find_in(text, field):
            if (f.kind, f.text) not in seen:
                seen.add((f.kind, f.text))
                out.append(f)
    return out[:MAX_FINDINGS]
