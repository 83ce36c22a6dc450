"""Runbook steps for an alert: the runbook's next steps as text and exact commands, rendered
from ``runbooks.toml`` with the alert's details. Values put into commands are shell-quoted
unless they are plainly safe, since alert payloads are hostile text."""

from __future__ import annotations

import re
import shlex
import string
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

RUNBOOKS = Path(__file__).with_name("runbooks.toml")
SAFE_VALUE = re.compile(r"^[\w.@:/=+,%~-]*$")
SAFE_URL = re.compile(r"^https?://[^\s'\"<>`]+$")
# values inserted as they are: checked in derived() to be a URL or a Refine rerun command
VERBATIM = frozenset({"rerun_command", "log_url", "base_url", "generator_url", "runbook_url"})
REFINE_RERUN = re.compile(
    r"^sudo -u analytics kerberos-run-command analytics [\w-]+"
    r"(?: --\w+(?:=(?:'[^'\n]*'|[^\s;&|`$<>'\"]+))?)*$"
)


@dataclass(frozen=True)
class Step:
    text: str
    command: str = ""

    def as_json(self) -> dict[str, str]:
        return {"text": self.text, "command": self.command}


@cache
def load_runbooks(path: Path = RUNBOOKS) -> dict[str, list[dict[str, str]]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    books: dict[str, list[dict[str, str]]] = {}
    for kind, table in data.items():
        books[kind] = table.get("steps", [])
        for topic, sub in table.items():
            if isinstance(sub, dict):
                books[f"{kind}.{topic}"] = sub.get("steps", [])
    return books


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _quoted(value: Any) -> str:
    text = _plain(value)
    return text if SAFE_VALUE.match(text) else shlex.quote(text)


def _render(template: str, values: dict[str, Any], quote: bool) -> str:
    out = []
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        out.append(literal)
        if field is not None:
            value = values.get(field, f"<{field}>")
            verbatim = not quote or field not in values or field in VERBATIM
            out.append(_plain(value) if verbatim else _quoted(value))
    return "".join(out)


def derived(kind: str, details: dict[str, Any]) -> dict[str, Any]:
    """Values the templates use that are computed from the parsed details."""
    extra: dict[str, Any] = {}
    if kind == "airflow_task_failed":
        run_id = str(details.get("run_id", ""))
        extra["logical_date"] = run_id.split("__", 1)[1] if "__" in run_id else run_id
        extra["action_hint"] = "cleared" if details.get("state") == "failed" else "watching"
    if kind == "airflow_sla_miss":
        extra["blocking_task_ids"] = [t["task_id"] for t in details.get("blocking", [])]
    if kind == "refine_failure":
        command = str(details.get("rerun_command", ""))
        if command and not REFINE_RERUN.match(command):
            extra["rerun_command"] = ""
            extra["rerun_command_refused"] = True
    if kind == "unexpected_pageview_values":
        year, month, day = ([*str(details.get("date", "--")).split("-"), "", "", ""])[:3]
        extra.update(year=year, month=month.lstrip("0"), day=day.lstrip("0"))
    if kind == "anomaly_report":
        extra[f"is_{details.get('family', '')}"] = True
        extra["metric_lines"] = [
            f"{m['metric']}: deviation {m['deviation']:+g}" for m in details.get("metrics", [])[:10]
        ]
    if kind == "data_loss" and details.get("date"):
        date = str(details["date"]).replace("T", "-")
        parts = date.split("-")
        if len(parts) >= 3:
            extra["hour_filter"] = (
                f"year={int(parts[0])} AND month={int(parts[1])} "
                f"AND day={int(parts[2])}"
                + (f" AND hour={int(parts[3])}" if len(parts) > 3 else "")
            )
    if kind == "alertmanager":
        annotations = details.get("annotations") or {}
        url = str(annotations.get("runbook_url", ""))
        extra["runbook_url"] = url if SAFE_URL.match(url) else ""
        generator = str(details.get("generator_url", ""))
        extra["generator_url"] = generator if SAFE_URL.match(generator) else ""
        labels = details.get("labels") or {}
        hint = labels.get("service") or labels.get("job") or details.get("alertname", "")
        extra["service_hint"] = hint
    for key in ("log_url", "base_url"):
        if details.get(key) and not SAFE_URL.match(str(details[key])):
            extra[key] = ""
    return extra


def steps_for(kind: str, details: dict[str, Any]) -> list[Step]:
    books = load_runbooks()
    values = _Values({**details, **derived(kind, details)})
    templates = list(books.get(kind, []))
    topic = details.get("topic") if kind == "alertmanager" else None
    if topic and f"{kind}.{topic}" in books:
        templates = books[f"{kind}.{topic}"] + templates
    steps = []
    for template in templates:
        when = template.get("when")
        if when and not values.get(when):
            continue
        items = values.get(template["each"], []) if template.get("each") else [None]
        for item in items if isinstance(items, list) else []:
            scope = _Values({**values, "item": item}) if item is not None else values
            steps.append(
                Step(
                    _render(template["text"], scope, quote=False),
                    _render(template.get("command", ""), scope, quote=True),
                )
            )
    return steps
