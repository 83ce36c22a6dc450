"""The Inbox's filter, in the small language Karma's users know: space-separated terms, all of
which an alert must match.

    team=data-platform          a label (an Alertmanager alert's labels; every alert has
    severity!=warning             ``severity``); =, !=, =~ and !~ (a regex, anchored)
    alertname=~Hdfs.*
    @state=active|silenced|acked|resolved
                                active: firing, not silenced; silenced: a silence covers it;
                                acked: acknowledged; resolved. Several with |
    @age>1h  @age<30m           since it first fired (m, h, d, w)
    @kind=airflow_task_failed   what opsweek parsed it as; @family=hdfs (HDFS, YARN, Airflow,
    @family=hdfs  @source=...     Kafka, EventGate, Flink, Java daemon, systemd)
    namenode "two words"        anything else: words the title or a label's value holds

Pure: the terms, and whether an alert (`Row`) matches them."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opsweek.alerts.model import ACKNOWLEDGED, FIRING, RESOLVED
from opsweek.alerts.silences import Matcher
from opsweek.errors import BadInput

STATES = ("active", "silenced", "acked", "resolved")
AGE = re.compile(r"^@age(?P<op>[<>])(?P<n>\d+)(?P<unit>[mhdw])\Z")
UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
UNITS["w"] = timedelta(weeks=1)
SPECIAL = re.compile(r"^@(?P<name>kind|family|source)(?P<op>!=|=)(?P<value>.+)\Z")
FAMILY_NAMES = {
    "hdfs": "HDFS",
    "yarn": "YARN",
    "airflow": "Airflow",
    "kafka": "Kafka",
    "eventgate": "EventGate",
    "flink": "Flink",
    "java_daemon": "Java daemon",
    "systemd": "systemd",
}


@dataclass(frozen=True)
class Row:
    """What the filter reads of an alert."""

    kind: str
    source: str
    title: str
    severity: str
    status: str
    first_seen: datetime
    labels: Mapping[str, str]  # an Alertmanager alert's; {} for the others
    family: str = ""
    silenced: bool = False  # a silence covers it

    @classmethod
    def of(cls, alert: Any, silenced: bool = False) -> Row:
        details = alert.details if isinstance(alert.details, dict) else {}
        labels = details.get("labels")
        return cls(
            alert.kind,
            alert.source,
            alert.title,
            alert.severity,
            alert.status,
            alert.first_seen,
            labels if isinstance(labels, dict) else {},
            str(details.get("family") or ""),
            silenced,
        )

    @property
    def state(self) -> str:
        if self.status == RESOLVED:
            return "resolved"
        if self.status == ACKNOWLEDGED:
            return "acked"
        return "silenced" if self.silenced else "active"


def about(kind: str, details: Mapping[str, Any]) -> str:
    """What an alert is about, for the Inbox's column: an Alertmanager alert's family (HDFS,
    Airflow, Java daemon...) or its name; the kind of the others (their e-mail says it)."""
    family = str(details.get("family") or "")
    if family:
        return FAMILY_NAMES.get(family, family)
    if kind == "alertmanager":
        return str(details.get("alertname") or kind)
    return kind


@dataclass(frozen=True)
class Query:
    text: str = ""
    matchers: tuple[Matcher, ...] = ()
    states: frozenset[str] = frozenset()
    older_than: timedelta | None = None
    newer_than: timedelta | None = None
    special: tuple[tuple[str, bool, str], ...] = ()  # (kind|family|source, equal, value)
    words: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, text: str) -> Query:
        try:
            terms = shlex.split(text)
        except ValueError as exc:
            raise BadInput(f"the filter {text!r}: {exc}") from None
        matchers: list[Matcher] = []
        states: set[str] = set()
        older = newer = None
        special: list[tuple[str, bool, str]] = []
        words: list[str] = []
        for term in terms:
            if term.startswith("@state"):
                found = re.fullmatch(r"@state=([a-z|]+)", term)
                asked = set(found[1].split("|")) if found else set()
                if not asked or not asked <= set(STATES):
                    raise BadInput(f"{term!r}: @state={'|'.join(STATES)}")
                states |= asked
            elif term.startswith("@age"):
                age = AGE.match(term)
                if age is None:
                    raise BadInput(f"{term!r}: @age>1h or @age<30m (m, h, d, w)")
                span = int(age["n"]) * UNITS[age["unit"]]
                if age["op"] == ">":
                    older = span
                else:
                    newer = span
            elif term.startswith("@"):
                found = SPECIAL.match(term)
                if found is None:
                    raise BadInput(f"{term!r}: @state, @age, @kind, @family or @source")
                special.append((found["name"], found["op"] == "=", found["value"]))
            elif re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*(=~|!~|!=|=)", term):
                matchers.append(Matcher.parse(term))
            else:
                words.append(term.lower())
        return cls(
            text.strip(),
            tuple(matchers),
            frozenset(states),
            older,
            newer,
            tuple(special),
            tuple(words),
        )

    def matches(self, row: Row, now: datetime) -> bool:
        labels = {"severity": row.severity, **row.labels}
        if not all(m.matches(labels) for m in self.matchers):
            return False
        if self.states and row.state not in self.states:
            return False
        age = now - row.first_seen
        if self.older_than is not None and age <= self.older_than:
            return False
        if self.newer_than is not None and age >= self.newer_than:
            return False
        values = {"kind": row.kind, "family": row.family, "source": row.source}
        if not all((values[name] == value) == equal for name, equal, value in self.special):
            return False
        haystack = " ".join([row.title, *row.labels.values()]).lower()
        return all(word in haystack for word in self.words)

    @property
    def status(self) -> str | None:
        """The store's status that holds every alert this query can match (a first cut made
        in SQL): None when any may."""
        if not self.states:
            return None
        wanted = {"active": FIRING, "silenced": FIRING, "acked": ACKNOWLEDGED}
        statuses = {wanted.get(state, RESOLVED) for state in self.states}
        if statuses == {FIRING}:
            return FIRING
        if statuses == {ACKNOWLEDGED}:
            return ACKNOWLEDGED
        if statuses == {RESOLVED}:
            return RESOLVED
        return "open" if RESOLVED not in statuses else None
