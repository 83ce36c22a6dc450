"""A duty's checklist (pure): steps as configured, each a text and maybe a command, with
``<name>`` placeholders filled in for one occurrence (the user to offboard, the wiki to add,
the project to deploy).

In a command each value is quoted for the command's language, as in the alerts' runbook; a
command whose placeholders are not known yet is left out and the step says what it waits for.
In a configuration file a step is a text (``"Look at the dashboards"``) or a table with the
command in its language: ``{ text = "...", shell = "opsweek check mw-history" }``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from opsweek.errors import ConfigError
from opsweek.quoting import Unquotable, irc_text, shell_word, sql_string, url, url_component
from opsweek.steps import LANGS, Step

PLACEHOLDER = re.compile(r"<([a-z_][a-z0-9_]*)>")
HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}\Z")
FIELDS = {"text", "host", *LANGS}


def step(text: str, command: str = "", lang: str = "shell", host: str = "") -> Step:
    """A checklist step as written in code: a text, and a command in ``lang``."""
    return Step(text, command, lang if command else "", host)


def from_config(entry: Any, where: str) -> Step:
    """A step from opsweek.toml: a string (text only) or a table with one command."""
    if isinstance(entry, str):
        return Step(entry)
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: a step is a text or a table with text and a command")
    unknown = set(entry) - FIELDS
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    langs = [lang for lang in LANGS if lang in entry]
    if not isinstance(entry.get("text"), str) or len(langs) > 1:
        raise ConfigError(f"{where}: a step needs a text, and at most one command")
    if entry.get("host") and (not langs or langs[0] not in ("shell", "sql")):
        raise ConfigError(f"{where}: host is for shell and sql commands")
    lang = langs[0] if langs else ""
    return Step(entry["text"], str(entry.get(lang, "")), lang, str(entry.get("host", "")))


def _fill_text(template: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: str(values.get(m[1], m[0])), template)


QUOTE: dict[str, Callable[[str], str]] = {
    "shell": shell_word,
    "sql": sql_string,
    "irc": irc_text,
    "url": url_component,
}


def _fill_command(template: str, lang: str, values: Mapping[str, str]) -> str:
    missing = [name for name in PLACEHOLDER.findall(template) if not values.get(name)]
    if missing:
        raise Unquotable(f"waits for {', '.join(sorted(set(missing)))}")
    quote = QUOTE[lang]
    filled = PLACEHOLDER.sub(lambda m: quote(values[m[1]]), template)
    if lang == "url":
        url(filled)  # what was configured, filled, must still be an http(s) URL
    return filled


def fill(steps: Iterable[Step], values: Mapping[str, str]) -> list[Step]:
    """The steps of one occurrence, ``<name>`` filled in from ``values``."""
    filled = []
    for template in steps:
        text = _fill_text(template.text, values)
        if not template.command:
            filled.append(Step(text))
            continue
        try:
            command = _fill_command(template.command, template.lang, values)
            host = _fill_text(template.host, values)
            if host and not HOST.match(host):
                raise Unquotable(f"{host!r} is not a host name")
        except Unquotable as exc:
            filled.append(Step(f"{text} (no command: {exc})"))
            continue
        filled.append(Step(text, command, template.lang, host))
    return filled
