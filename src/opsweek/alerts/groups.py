"""Alerts grouped as they arrived: one e-mail listing five tables, one Alertmanager
notification with three alerts, one DAG run's failed tasks. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from opsweek.alerts.model import ACKNOWLEDGED, FIRING, RESOLVED, STATUSES


class GroupedAlert(Protocol):
    id: int
    kind: str
    source: str
    title: str
    status: str
    group_key: str
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class AlertGroup:
    key: str
    alerts: Sequence[Any]  # GroupedAlert-like, in the order given (the inbox's order)

    @property
    def kinds(self) -> list[str]:
        return sorted({a.kind for a in self.alerts})

    @property
    def sources(self) -> list[str]:
        return sorted({a.source for a in self.alerts})

    @property
    def counts(self) -> dict[str, int]:
        found = dict.fromkeys(STATUSES, 0)
        for alert in self.alerts:
            found[alert.status] += 1
        return found

    @property
    def status(self) -> str:
        """The group's status: firing while one of its alerts fires, then acknowledged."""
        counts = self.counts
        return FIRING if counts[FIRING] else ACKNOWLEDGED if counts[ACKNOWLEDGED] else RESOLVED

    @property
    def title(self) -> str:
        first = self.alerts[0].title
        return first if len(self.alerts) == 1 else f"{first} (+{len(self.alerts) - 1} more)"

    @property
    def first_seen(self) -> datetime:
        return min(a.first_seen for a in self.alerts)

    @property
    def last_seen(self) -> datetime:
        return max(a.last_seen for a in self.alerts)

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.key,
            "title": self.title,
            "status": self.status,
            "kinds": self.kinds,
            "sources": self.sources,
            "counts": self.counts,
            "alert_ids": [a.id for a in self.alerts],
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
        }


def group_alerts(alerts: Iterable[GroupedAlert]) -> list[AlertGroup]:
    """Groups in the order of their first alert in ``alerts`` (give them in inbox order: the
    group with an unacknowledged alert comes first)."""
    members: dict[str, list[GroupedAlert]] = {}
    for alert in alerts:
        members.setdefault(alert.group_key or f"alert:{alert.id}", []).append(alert)
    return [AlertGroup(key, found) for key, found in members.items()]


def storm_groups(alerts: Iterable[GroupedAlert]) -> list[AlertGroup]:
    """Groups as Alertmanager's ``group_by: [alertname]`` makes them: an Alertmanager alert
    with the others of its name, whatever notification brought it; the others as they
    arrived (one e-mail, one DAG run). In the order of their first alert in ``alerts``."""
    members: dict[str, list[GroupedAlert]] = {}
    for alert in alerts:
        name = labels_of(alert).get("alertname") if alert.kind == "alertmanager" else None
        key = f"alertname:{name}" if name else alert.group_key or f"alert:{alert.id}"
        members.setdefault(key, []).append(alert)
    return [AlertGroup(key, found) for key, found in members.items()]


def labels_of(alert: Any) -> dict[str, str]:
    details = getattr(alert, "details", None)
    labels = details.get("labels") if isinstance(details, dict) else None
    return dict(labels) if isinstance(labels, dict) else {}


def shared_labels(alerts: Sequence[Any]) -> dict[str, str]:
    """The labels every alert of a group has with the same value (the group's chips)."""
    sets = [labels_of(a) for a in alerts]
    if not sets or not sets[0]:
        return {}
    return {
        name: value
        for name, value in sorted(sets[0].items())
        if all(other.get(name) == value for other in sets[1:])
    }


def own_labels(alert: Any, shared: dict[str, str]) -> dict[str, str]:
    """An alert's labels that tell it from the rest of its group (its row's chips)."""
    return {k: v for k, v in sorted(labels_of(alert).items()) if shared.get(k) != v}
