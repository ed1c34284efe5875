"""One message catalogue: Bahasa Indonesia by default, English with `--lang en` or PLANNER_LANG=en.

Messages are written in English in the code (the gettext msgid) and translated from
`planner/locale/<lang>/LC_MESSAGES/planner.po`, a gettext catalogue read with Babel. Two ways in:

- `t(msgid, **values)`: text for a person, now, in the current language (sheet headers, CLI lines).
- `en(msgid, **values)`: English text that is stored in data (reasons in unscheduled.csv, notes in
  plan.json), so the data contracts stay stable whatever the user's language; `text()` translates
  it where a person reads it (workbook, CLI, map), by matching it against the catalogue's templates.

Numbers passed as values are written the language's way (1.234,5 in Bahasa), dates by Babel.
"""

from __future__ import annotations

import functools
import os
import re
from contextlib import contextmanager
from pathlib import Path

LANGUAGES = ("id", "en")
DEFAULT = "id"
LOCALE_DIR = Path(__file__).parent / "locale"
_chosen: str | None = None


def language() -> str:
    """The language in use: set_language()'s, else PLANNER_LANG's ('en', 'en_US.UTF-8', ...), else Bahasa."""
    if _chosen is not None:
        return _chosen
    wanted = os.environ.get("PLANNER_LANG", "").split("_")[0].split(".")[0].lower()
    return wanted if wanted in LANGUAGES else DEFAULT


def set_language(lang: str | None) -> None:
    """Choose the language for this process (None: back to PLANNER_LANG / the default)."""
    global _chosen
    if lang is not None and lang not in LANGUAGES:
        from planner.errors import InputError

        raise InputError(f"--lang {lang}: expected one of {', '.join(LANGUAGES)}")
    _chosen = lang


@contextmanager
def using(lang: str):
    """Temporarily write in `lang` (tests, a workbook for another reader)."""
    before = _chosen
    set_language(lang)
    try:
        yield
    finally:
        set_language(before)


def catalogue_path(lang: str) -> Path:
    """Where `lang`'s gettext catalogue lives."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / "planner.po"


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """The translation of each msgid for `lang` (English is the msgid itself: an empty catalogue)."""
    if lang == "en":
        return {}
    from babel.messages.pofile import read_po

    with open(catalogue_path(lang), "rb") as f:
        po = read_po(f, locale=lang)
    return {m.id: m.string for m in po if m.id and m.string and not m.fuzzy}


def written(value, lang: str | None = None):
    """Numbers the language's way (1.234,5 in Bahasa); everything else as it is."""
    lang = lang or language()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    from babel.numbers import format_decimal

    return format_decimal(value, format="#,##0.#", locale=lang)


def t(msgid: str, **values) -> str:
    """`msgid` in the current language, with `values` filled in."""
    lang = language()
    template = catalogue(lang).get(msgid, msgid)
    return template.format(**{k: written(v, lang) for k, v in values.items()}) if values else template


def en(msgid: str, **values) -> str:
    """`msgid` in English with `values` filled in: for text stored in data; `text()` translates it later."""
    return msgid.format(**{k: written(v, "en") for k, v in values.items()}) if values else msgid


_FIELD = re.compile(r"\{(\w+)\}")


@functools.cache
def _templates(lang: str) -> list[tuple[re.Pattern, str]]:
    """Catalogue entries with fields, as patterns that read the values back out, most specific first."""
    out = []
    for msgid, translated in catalogue(lang).items():
        if not _FIELD.search(msgid):
            continue
        pattern, last, seen = "", 0, set()
        for m in _FIELD.finditer(msgid):
            pattern += re.escape(msgid[last:m.start()])
            name = m.group(1)
            pattern += f"(?P={name})" if name in seen else f"(?P<{name}>.+?)"
            seen.add(name)
            last = m.end()
        pattern += re.escape(msgid[last:])
        out.append((re.compile(pattern, re.S), translated, len(msgid) - 4 * len(seen)))
    out.sort(key=lambda item: -item[2])
    return [(p, s) for p, s, _ in out]


def text(message) -> str:
    """An English message made from the catalogue (by `en()` or an f-string of the same shape), translated.

    Line by line; a line that is in no catalogue stays as it is (names, paths, data values).
    """
    if message is None or (isinstance(message, float) and message != message):
        return ""
    message = str(message)
    lang = language()
    if lang == "en" or not message:
        return message
    if "\n" in message:
        return "\n".join(text(line) for line in message.split("\n"))
    known = catalogue(lang)
    if message in known:
        return known[message]
    for pattern, translated in _templates(lang):
        m = pattern.fullmatch(message)
        if m:
            return translated.format(**{k: text(v) for k, v in m.groupdict().items()})
    return message
