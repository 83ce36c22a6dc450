"""Runbook steps for an alert: the runbook's next steps as text, and each command in the
language it is written in (a shell command, Hive SQL, a URL to open, an IRC line), rendered
from ``runbooks.toml`` with the alert's details.

Alert details are hostile text, so every value is quoted for the language it goes into
(`opsweek.quoting`). A command that needs a value the alert lacks, or a value that cannot be
quoted safely, is left out and the step says why: a wrong command is worse than none."""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from opsweek.alerts.runbook_values import derived
from opsweek.quoting import (
    Unquotable,
    irc_text,
    shell_join,
    shell_word,
    sql_identifier,
    sql_int,
    sql_string,
    sql_table,
    url,
    url_component,
)
from opsweek.site import DEFAULT_SITE, Site
from opsweek.steps import CHANGE, EFFECTS, LANGS, PLACES, Step

RUNBOOKS = Path(__file__).with_name("runbooks.toml")
STEP_FIELDS = {"id", "text", "when", "unless", "each", "host", "effect", *LANGS}
HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}\Z")
# how long before the alert was first seen, and after it was last seen, logs are read
LOG_BEFORE, LOG_AFTER = timedelta(hours=2), timedelta(hours=1)


class RunbookError(ValueError):
    """runbooks.toml is not well formed."""


@cache
def load_runbooks(path: Path = RUNBOOKS) -> dict[str, list[dict[str, str]]]:
    """The step templates of every kind (``alertmanager.<topic>`` for Alertmanager topics),
    checked: each step has a text, at most one command, and an id when it has a command."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    books: dict[str, list[dict[str, str]]] = {}
    for kind, table in data.items():
        books[kind] = _checked(kind, table.get("steps", []))
        for topic, sub in table.items():
            if isinstance(sub, dict):
                books[f"{kind}.{topic}"] = _checked(f"{kind}.{topic}", sub.get("steps", []))
    return books


def _checked(kind: str, steps: list[dict[str, str]]) -> list[dict[str, str]]:
    ids: set[str] = set()
    for number, step in enumerate(steps, start=1):
        where = f"runbooks.toml [{kind}] step {number}"
        unknown = set(step) - STEP_FIELDS
        if unknown:
            raise RunbookError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        if not step.get("text"):
            raise RunbookError(f"{where}: a step needs a text")
        langs = [lang for lang in LANGS if lang in step]
        if len(langs) > 1:
            raise RunbookError(f"{where}: one command per step ({' and '.join(langs)} given)")
        if langs and not step.get("id"):
            raise RunbookError(f"{where}: a step with a command needs an id")
        if "host" in step and not set(langs) & {"shell", "sql"}:
            raise RunbookError(f"{where}: host is for shell and sql commands")
        if "effect" in step and (
            step["effect"] not in EFFECTS or not set(langs) & {"shell", "sql"}
        ):
            raise RunbookError(f"{where}: effect is read or change, for shell and sql commands")
        if step.get("id") in ids:
            raise RunbookError(f"{where}: id {step['id']!r} is used twice")
        ids.add(step.get("id", ""))
    return steps


def command_templates(kind: str) -> list[dict[str, str]]:
    """The steps of ``kind`` (topics included) that carry a command: what the conformance
    suite must cover."""
    books = load_runbooks()
    names = [name for name in books if name == kind or name.startswith(f"{kind}.")]
    return [step for name in names for step in books[name] if set(step) & set(LANGS)]


class _Missing(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def lookup(values: Mapping[str, Any], name: str) -> Any:
    """``values[name]``; ``a.b`` looks up ``b`` in the mapping ``values[a]``."""
    value: Any = values
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _value(values: Mapping[str, Any], name: str) -> Any:
    value = lookup(values, name)
    if value is None or value == "" or value == []:
        raise _Missing(f"the alert does not say {name}")
    return value


def _shell(value: Any, spec: str) -> str:
    if spec == "argv":
        if not isinstance(value, list | tuple):
            raise Unquotable("not a list of words")
        return shell_join(value)
    return shell_word(value)


SQL = {"str": sql_string, "int": sql_int, "ident": sql_identifier, "table": sql_table}


def _sql(value: Any, spec: str) -> str:
    if spec not in SQL:
        raise RunbookError(f"a SQL placeholder needs a type (str, int, ident, table), not {spec!r}")
    return SQL[spec](value)


def _url(value: Any, spec: str) -> str:
    return url(value) if spec == "url" else url_component(value)


def _irc(value: Any, spec: str) -> str:
    return irc_text(value)


def _host(value: Any, spec: str) -> str:
    text = str(value)
    if not HOST.match(text) and text not in PLACES:
        raise Unquotable(f"{text!r} is not a host name")
    return text


QUOTE: dict[str, Callable[[Any, str], str]] = {
    "shell": _shell,
    "sql": _sql,
    "url": _url,
    "irc": _irc,
    "host": _host,
}


def render_command(template: str, values: Mapping[str, Any], lang: str) -> str:
    """``template`` with each ``{name[:spec]}`` replaced by its value quoted for ``lang``;
    _Missing when a value is absent or cannot be quoted."""
    quote = QUOTE[lang]
    out = []
    for literal, field, spec, _conv in string.Formatter().parse(template):
        out.append(literal)
        if field is None:
            continue
        try:
            out.append(quote(_value(values, field), spec or ""))
        except Unquotable as exc:
            raise _Missing(f"{field} cannot be used safely: {exc}") from None
    return "".join(out)


def render_text(template: str, values: Mapping[str, Any]) -> str:
    """Text for people: values as they are, ``<name>`` where a value is unknown. Escaping for
    HTML or the terminal is the page's or the CLI's job."""
    out = []
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        out.append(literal)
        if field is not None:
            value = lookup(values, field)
            out.append(f"<{field}>" if value in (None, "") else _plain(value))
    return "".join(out)


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(_plain(item) for item in value)
    return str(value)


def render_step(template: Mapping[str, str], values: Mapping[str, Any]) -> Step:
    text = render_text(template["text"], values)
    lang = next((lang for lang in LANGS if lang in template), "")
    if not lang:
        return Step(text, id=template.get("id", ""))
    try:
        command = render_command(template[lang], values, lang)
        host = render_command(template["host"], values, "host") if "host" in template else ""
    except _Missing as missing:
        return Step(f"{text} (no command: {missing.reason})", id=template["id"])
    effect = template.get("effect", CHANGE) if lang in ("shell", "sql") else ""
    return Step(text, command, lang, host, template["id"], effect)


def time_window(first_seen: datetime, last_seen: datetime) -> dict[str, str]:
    """Where logs are read for an alert: from before it was first seen to after it was last
    seen, in the form journalctl and people read (UTC named); and when it failed."""
    return {
        "log_since": (first_seen - LOG_BEFORE).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "log_until": (last_seen + LOG_AFTER).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "failed_at": first_seen.strftime("%Y-%m-%d %H:%M UTC"),
    }


def steps_for(
    kind: str,
    details: Mapping[str, Any],
    first_seen: datetime | None = None,
    last_seen: datetime | None = None,
    alert_id: int | None = None,
    site: Site = DEFAULT_SITE,
) -> list[Step]:
    """The runbook's steps for an alert of ``kind``. Logs are looked at around the alert's own
    time (``first_seen``..``last_seen``), so the steps stay right the next day; ``alert_id``
    fills the opsweek commands that act on the stored alert; ``site`` says where each command
    runs and as whom (``{site.launcher}``, ``{site.jobs_user}``, ...)."""
    books = load_runbooks()
    computed = derived(kind, details, site)
    values: dict[str, Any] = {**details, **computed, "site": site.values()}
    if alert_id is not None:
        values["alert_id"] = alert_id
    if first_seen is not None:
        values.update(time_window(first_seen, last_seen or first_seen))
    if kind not in books:
        return [Step(f"opsweek has no runbook steps for {kind} alerts yet (runbooks.toml)")]
    templates = list(books[kind])
    if kind == "alertmanager":  # the topic's steps (its exact name), then its family's
        sections = dict.fromkeys(f"{kind}.{values.get(k)}" for k in ("family", "topic"))
        for section in sections:
            if section in books:
                templates = books[section] + templates
    steps = [
        Step(f"The e-mail does not say {item['field']}: look in {item['look']}")
        for item in [*(details.get("unknown") or []), *(computed.get("unknown") or [])]
        if isinstance(item, dict) and item.get("field")
    ]
    for block in _blocks(templates):
        each = block[0].get("each")
        if not each:
            steps += [render_step(t, values) for t in block if _shown(t, values)]
            continue
        items = values.get(each)
        for item in items if isinstance(items, list) else []:
            scope = {**values, "item": item}
            steps += [render_step(t, scope) for t in block if _shown(t, scope)]
    return steps


def _blocks(templates: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    """Consecutive steps repeated for the same list form one block, repeated item by item:
    all the steps of the first item, then all the steps of the next."""
    blocks: list[list[dict[str, str]]] = []
    for template in templates:
        each = template.get("each")
        if each and blocks and blocks[-1][0].get("each") == each:
            blocks[-1].append(template)
        else:
            blocks.append([template])
    return blocks


def _shown(template: Mapping[str, str], values: Mapping[str, Any]) -> bool:
    when, unless = template.get("when"), template.get("unless")
    return not ((when and not lookup(values, when)) or (unless and lookup(values, unless)))
