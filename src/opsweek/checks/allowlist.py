"""The pageview allowlist (allowlist.tsv) and the sqoop groups (grouped_wikis.csv): reading,
linting with line numbers, and the lines to add for new wikis (pure)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime

from opsweek.errors import BadInput

FIELDS = ("project", "agent_type", "access_method")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\Z")


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def lint_allowlist(text: str) -> list[Problem]:
    """Every problem of an allowlist: spaces instead of tabs (editors replace them), wrong
    column count, unknown field, bad insertion date, duplicates."""
    problems = []
    seen: dict[tuple[str, str], int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        columns = line.split("\t")
        if len(columns) != 3:
            if "\t" not in line and len(line.split()) >= 3:
                problems.append(Problem(number, "spaces instead of tabs"))
            else:
                problems.append(
                    Problem(number, f"expected 3 tab-separated columns, found {len(columns)}")
                )
            continue
        field, value, inserted = columns
        if field not in FIELDS:
            problems.append(
                Problem(number, f"unknown field {field!r} (expected {', '.join(FIELDS)})")
            )
        if not value or value != value.strip():
            problems.append(Problem(number, "empty value or value with surrounding spaces"))
        if not DATE.match(inserted):
            problems.append(
                Problem(number, f"bad date {inserted!r} (expected YYYY-MM-DD HH:MM:SS)")
            )
        else:
            try:
                datetime.strptime(inserted, "%Y-%m-%d %H:%M:%S")
            except ValueError:
                problems.append(Problem(number, f"bad date {inserted!r}"))
        key = (field, value)
        if key in seen:
            problems.append(Problem(number, f"duplicate of line {seen[key]}: {field} {value}"))
        else:
            seen[key] = number
    return problems


def allowed_values(text: str, field: str = "project") -> set[str]:
    problems = [p for p in lint_allowlist(text) if "duplicate" not in p.message]
    if problems:
        raise BadInput(f"allowlist: {problems[0]}")
    return {
        line.split("\t")[1]
        for line in text.splitlines()
        if line.strip() and line.split("\t")[0] == field
    }


def allowlist_lines(projects: list[str], at: datetime) -> list[str]:
    stamp = at.strftime("%Y-%m-%d %H:%M:%S")
    return [f"project\t{project}\t{stamp}" for project in sorted(projects)]


@dataclass(frozen=True)
class GroupedWikis:
    header: list[str]
    rows: list[tuple[str, int, str]]  # dbname, group, edit size

    @property
    def last_group(self) -> int:
        return max(group for _, group, _ in self.rows)

    @property
    def dbnames(self) -> set[str]:
        return {name for name, _, _ in self.rows}


def read_grouped_wikis(text: str) -> GroupedWikis:
    header, rows = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            header.append(line)
            continue
        parts = line.split(",")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            raise BadInput(f"grouped_wikis.csv line {number}: expected dbname,group,edit size")
        rows.append((parts[0].strip(), int(parts[1]), parts[2].strip()))
    if not rows:
        raise BadInput("grouped_wikis.csv has no rows")
    return GroupedWikis(header, rows)


def grouped_lines(dbnames: list[str], groups: GroupedWikis) -> list[str]:
    """New wikis go to the last group (the smallest wikis); their edit size is not known yet."""
    return [
        f"{name},{groups.last_group},0" for name in sorted(dbnames) if name not in groups.dbnames
    ]


def appended(text: str, lines: list[str]) -> str:
    if not lines:
        return text
    base = text if text.endswith("\n") or not text else text + "\n"
    return base + "\n".join(lines) + "\n"


def unified_diff(old: str, new: str, path: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )
