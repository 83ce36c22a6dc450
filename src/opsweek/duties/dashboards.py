"""The dashboards the runbook asks to bookmark and monitor (`[[dashboards]]`): a name, a link,
what to look for, and optionally a Prometheus query whose current value is shown next to the
link. The daily `dashboards` duty has one step per dashboard: ticked when looked at and fine,
or ticked with a note when something was noted (the handoff lists those)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opsweek.errors import ConfigError, OpsweekError
from opsweek.steps import Step

NAME = re.compile(r"^[\w .:/()-]{1,80}\Z")
FIELDS = {"name", "url", "look_for", "prometheus"}


@dataclass(frozen=True)
class Dashboard:
    name: str
    url: str
    look_for: str = ""
    prometheus: str = ""  # a PromQL expression; "" when the dashboard has none

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], number: int) -> Dashboard:
        where = f"dashboards entry {number}"
        unknown = set(entry) - FIELDS
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        name, url = str(entry.get("name") or ""), str(entry.get("url") or "")
        if not NAME.match(name):
            raise ConfigError(f"{where}: a name of letters, digits and spaces is required")
        if not re.match(r"^https?://[^\s]+\Z", url):
            raise ConfigError(f"{where} ({name}): url must be an http(s) URL")
        return cls(name, url, str(entry.get("look_for") or ""), str(entry.get("prometheus") or ""))

    def step(self) -> Step:
        what = f": {self.look_for}" if self.look_for else ""
        return Step(f"Look at {self.name}{what}", self.url, "url")


def dashboards_from(entries: Sequence[Mapping[str, Any]]) -> list[Dashboard]:
    found = [Dashboard.from_entry(e, n) for n, e in enumerate(entries, start=1)]
    names = [d.name for d in found]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(f"dashboards: names used twice: {', '.join(duplicated)}")
    return found


@dataclass(frozen=True)
class Reading:
    dashboard: Dashboard
    values: list[tuple[str, float]] | None  # (series labels, value); None: no query
    error: str = ""

    def shown(self) -> str:
        if self.error:
            return f"unavailable: {self.error}"
        if self.values is None:
            return ""
        if not self.values:
            return "no data"
        shown = [f"{labels} {value:g}" if labels else f"{value:g}" for labels, value in self.values]
        return ", ".join(shown[:5]) + (f" (+{len(shown) - 5})" if len(shown) > 5 else "")

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.dashboard.name,
            "url": self.dashboard.url,
            "look_for": self.dashboard.look_for,
            "prometheus": self.dashboard.prometheus or None,
            "values": (
                None
                if self.values is None
                else [{"series": labels, "value": value} for labels, value in self.values]
            ),
            "error": self.error or None,
        }


def read_all(
    dashboards: Sequence[Dashboard], query: Callable[[str], list[tuple[str, float]]] | None
) -> list[Reading]:
    """Each dashboard with its query's current values (when it has one and Prometheus is
    configured); a query that fails is said for that dashboard only."""
    readings = []
    for dashboard in dashboards:
        if not dashboard.prometheus or query is None:
            readings.append(Reading(dashboard, None))
            continue
        try:
            readings.append(Reading(dashboard, query(dashboard.prometheus)))
        except OpsweekError as exc:
            readings.append(Reading(dashboard, None, str(exc)))
    return readings
