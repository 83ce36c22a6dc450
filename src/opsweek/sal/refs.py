"""References in SAL messages and in alerts: tracker tasks, jobs and DAGs, Hive tables,
hosts, systemd units, alert ids. Pure. A SAL entry and an alert are related when they share a
reference value."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TASK = re.compile(r"(?<![\w-])(T\d{3,7})(?![\w-])")
ALERT = re.compile(r"\balert\s+(?:#|id\s+)?(\d{1,10})\b", re.IGNORECASE)
TABLE = re.compile(r"(?<![\w.-])([a-z][a-z0-9_]*)\.([a-z_][a-z0-9_]*)(?![\w.-])")
HOST = re.compile(r"(?<![\w.-])([a-z]+(?:-[a-z]+)*\d{3,4})(?:\.[a-z0-9.-]+)?(?![\w-])")
UNIT = re.compile(r"(?<![\w.-])([\w@.-]+)\.(?:service|timer)(?![\w-])")
IDENT = re.compile(r"(?<![\w.-])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w-])")
DETAIL_FIELDS = (
    "job",
    "dag_id",
    "task_id",
    "table",
    "unit",
    "stream",
    "alertname",
    "workflow",
    "report",
    "host",
    "instance",
)
MAX_VALUE = 200


@dataclass(frozen=True, order=True)
class Ref:
    kind: str  # task, alert, table, host, unit, name
    value: str  # normalised: what matching compares


def extract_refs(text: str) -> list[Ref]:
    found: set[Ref] = set()
    found.update(Ref("task", m.group(1).upper()) for m in TASK.finditer(text))
    found.update(Ref("alert", f"alert:{int(m.group(1))}") for m in ALERT.finditer(text))
    lowered = text.lower()
    for m in TABLE.finditer(lowered):
        found.add(Ref("table", f"{m.group(1)}.{m.group(2)}"))
        if "_" in m.group(2) or len(m.group(2)) > 3:
            found.add(Ref("name", m.group(2)))
    found.update(Ref("host", m.group(1)) for m in HOST.finditer(lowered))
    for m in UNIT.finditer(lowered):
        found.add(Ref("unit", m.group(1)))
    found.update(Ref("name", m.group(1)) for m in IDENT.finditer(lowered))
    return sorted(ref for ref in found if len(ref.value) <= MAX_VALUE)


def alert_refs(alert_id: int, title: str, details: Mapping[str, Any]) -> set[str]:
    """Reference values of an alert: its id, what its title names, its job, DAG, table..."""
    values = {f"alert:{alert_id}"} | {ref.value for ref in extract_refs(title)}
    for field in DETAIL_FIELDS:
        value = details.get(field)
        if isinstance(value, str) and value:
            values.update(_detail_values(field, value))
    # an alert about one table (a Refine partition) is not about its e-mail's other tables
    for table in [] if details.get("table") else details.get("tables") or []:
        name = table.get("table") if isinstance(table, dict) else table
        if isinstance(name, str) and name:
            values.update(_detail_values("table", name))
    return {v for v in values if len(v) <= MAX_VALUE}


def _detail_values(field: str, value: str) -> Iterable[str]:
    lowered = value.lower()
    if field == "unit":
        stem = lowered.removesuffix(".service").removesuffix(".timer")
        return {stem}
    if field in ("host", "instance"):
        match = HOST.search(lowered)
        return {match.group(1)} if match else set()
    if field == "table" and "." in lowered:
        return {lowered, lowered.split(".", 1)[1]}
    return {lowered}
