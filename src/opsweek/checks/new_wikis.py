"""Have new wikis been created? Projects with pageviews that are not in the allowlist, each
checked for a replicated database, and the exact change to make: allowlist lines, sqoop group
rows, the HDFS commands to sync the allowlist."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from opsweek.adapters.warehouse import Warehouse
from opsweek.alerts.runbook import steps_for
from opsweek.alerts.sources.opsweek_check import finding
from opsweek.checks.allowlist import (
    allowed_values,
    allowlist_lines,
    appended,
    grouped_lines,
    read_grouped_wikis,
    unified_diff,
)
from opsweek.checks.wiki_names import dbname
from opsweek.errors import OpsweekError
from opsweek.steps import Step


@dataclass
class Candidate:
    project: str
    dbname: str | None
    views: int
    days: int
    replica: str = "not checked"  # ready, not replicated, not checked, or the error
    tables: int | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class NewWikis:
    start: date
    end: date
    candidates: list[Candidate] = field(default_factory=list)
    allowlist_diff: str = ""
    grouped_diff: str = ""
    new_allowlist: str = ""
    new_grouped: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def ready(self) -> list[Candidate]:
        return [c for c in self.candidates if c.replica == "ready"]

    def summary(self) -> str:
        """One line, as Today shows a check run from its button."""
        days = f"{self.start.isoformat()} to {self.end.isoformat()}"
        if not self.candidates:
            said = f"no new wiki in the pageviews of {days}"
        else:
            wikis = ", ".join(f"{c.dbname or c.project} ({c.replica})" for c in self.candidates)
            said = f"{len(self.candidates)} new wiki(s) in the pageviews of {days}: {wikis}"
            if self.ready:
                said += "; a new-wiki duty is open for each ready one"
        return said + "".join(f"; error: {error}" for error in self.errors)

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": (self.end - self.start).days + 1,
            "candidates": [c.as_json() for c in self.candidates],
            "allowlist_diff": self.allowlist_diff,
            "grouped_wikis_diff": self.grouped_diff,
            "steps": [step.as_json() for step in self.steps],
            "errors": self.errors,
        }

    def details(self) -> dict[str, Any]:
        """What the finding says: the runbook's steps for it are built from this."""
        return {
            "period": f"{self.start.isoformat()}..{self.end.isoformat()}",
            "end": self.end.isoformat(),
            "days": (self.end - self.start).days + 1,
            "projects": [c.project for c in self.candidates],
            "dbnames": [c.dbname for c in self.candidates if c.dbname],
            "ready": [c.dbname for c in self.ready],
            "not_replicated": [c.dbname for c in self.candidates if c.replica == "not replicated"],
        }

    @property
    def steps(self) -> list[Step]:
        """The change to make, step by step: the same steps as on its alert."""
        return steps_for("new_wiki_candidates", self.details()) if self.candidates else []

    def findings(self) -> list[bytes]:
        if not self.candidates:
            return [
                finding(
                    "new-wikis",
                    "new_wiki_candidates",
                    "no new wikis",
                    "new-wikis",
                    {},
                    resolved=True,
                )
            ]
        names = ", ".join(c.project for c in self.candidates)
        return [
            finding(
                "new-wikis",
                "new_wiki_candidates",
                f"new wikis with pageviews, not in the allowlist: {names}",
                "new-wikis",
                self.details(),
            )
        ]


def unexpected_projects(
    warehouse: Warehouse, table: str, start: date, end: date
) -> dict[str, tuple[int, int]]:
    """Project values with pageviews in [start, end] that the allowlist lacked: views, days."""
    import ibis

    t = warehouse.table(table)
    day = ibis.date(t.year, t.month, t.day)
    expr = (
        t.filter((t.field_name == "project") & day.between(start, end))
        .group_by(t.unexpected_value)
        .aggregate(views=t.view_count.sum(), days=day.nunique())
    )
    result = expr.to_pyarrow().to_pylist()
    return {row["unexpected_value"]: (int(row["views"] or 0), int(row["days"])) for row in result}


def check_new_wikis(
    warehouse: Warehouse,
    table: str,
    allowlist_text: str,
    grouped_text: str,
    start: date,
    end: date,
    now: datetime,
    replica_tables: Callable[[str], int] | None = None,
    allowlist_path: str = "allowlist.tsv",
    grouped_path: str = "grouped_wikis.csv",
) -> NewWikis:
    result = NewWikis(start, end)
    allowed = allowed_values(allowlist_text)
    groups = read_grouped_wikis(grouped_text)
    seen = unexpected_projects(warehouse, table, start, end)
    for project, (views, days) in sorted(seen.items()):
        if project in allowed:
            continue
        candidate = Candidate(project, dbname(project), views, days)
        if candidate.dbname is None:
            candidate.replica = "not a wiki project name"
        elif replica_tables is not None:
            try:
                candidate.tables = replica_tables(candidate.dbname)
                candidate.replica = "ready" if candidate.tables else "not replicated"
            except OpsweekError as exc:
                candidate.replica = f"error: {exc}"
                result.errors.append(str(exc))
        result.candidates.append(candidate)
    wikis = [c for c in result.candidates if c.dbname]
    if wikis:
        result.new_allowlist = appended(
            allowlist_text, allowlist_lines([c.project for c in wikis], now)
        )
        result.allowlist_diff = unified_diff(allowlist_text, result.new_allowlist, allowlist_path)
    # only wikis whose replica has tables go to the sqoop list (the runbook checks first)
    sqoop = [c.dbname for c in result.candidates if c.dbname and c.replica == "ready"]
    if sqoop:
        result.new_grouped = appended(grouped_text, grouped_lines(sqoop, groups))
        result.grouped_diff = unified_diff(grouped_text, result.new_grouped, grouped_path)
    return result
