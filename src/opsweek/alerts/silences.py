"""Alertmanager silences, as data: matchers (``name=value``, ``name!=value``, ``name=~regex``,
``name!~regex``, as `amtool` and Karma write them), whether a silence covers an alert's
labels, the matchers of an acknowledgement, and its comment in Karma's form
(``ACK! <person>: <note>``), so Karma shows opsweek's acknowledgements as its own and opsweek
reads Karma's. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opsweek.errors import BadInput

MATCHER = re.compile(
    r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*(?P<value>.*?)\s*\Z"
)
ACK = re.compile(r"^ACK!\s*(?:(?P<who>[^:\n]{1,255}):\s*)?(?P<note>.*)", re.DOTALL)
ACK_PREFIX = "ACK!"
# labels that say where an alert was scraped or evaluated rather than what it is: an
# acknowledgement's silence does not pin them, so the same alert from the other Prometheus
# of a pair is silenced too
OPS = {(True, False): "=", (True, True): "=~", (False, False): "!=", (False, True): "!~"}
VOLATILE = frozenset({"prometheus", "replica", "receive", "tenant_id"})


@dataclass(frozen=True)
class Matcher:
    name: str
    value: str
    regex: bool = False
    equal: bool = True

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """``name=value``, ``name!=value``, ``name=~regex`` or ``name!~regex``; a value may
        be quoted (``"a b"``)."""
        found = MATCHER.match(text)
        if found is None:
            raise BadInput(
                f"not a matcher: {text!r} (name=value, name!=value, name=~regex, name!~regex)"
            )
        value = found["value"]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        op = found["op"]
        matcher = cls(found["name"], value, regex="~" in op, equal=op[0] == "=")
        if matcher.regex:
            try:
                re.compile(value)
            except re.error as exc:
                raise BadInput(f"{text!r}: not a regular expression: {exc}") from None
        return matcher

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Matcher:
        return cls(
            str(data["name"]),
            str(data["value"]),
            bool(data.get("isRegex")),
            bool(data.get("isEqual", True)),
        )

    def as_api(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "isRegex": self.regex,
            "isEqual": self.equal,
        }

    def matches(self, labels: Mapping[str, str]) -> bool:
        """As Alertmanager matches: a missing label is the empty string; a regex is anchored."""
        value = labels.get(self.name, "")
        found = re.fullmatch(self.value, value) is not None if self.regex else value == self.value
        return found == self.equal

    def __str__(self) -> str:
        return f'{self.name}{OPS[(self.equal, self.regex)]}"{self.value}"'


def covers(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """Whether a silence with ``matchers`` silences an alert with ``labels``."""
    found = list(matchers)
    return bool(found) and all(m.matches(labels) for m in found)


def ack_matchers(labels: Iterable[Mapping[str, str]]) -> list[Matcher]:
    """An acknowledgement's matchers: the labels every acknowledged alert shares (one alert:
    all its labels; a group: what makes it a group), never where it was evaluated."""
    sets = [dict(one) for one in labels]
    if not sets:
        raise BadInput("nothing to silence: no alert labels")
    shared = {
        name: value
        for name, value in sets[0].items()
        if name not in VOLATILE and all(other.get(name) == value for other in sets[1:])
    }
    if not shared:
        raise BadInput("the alerts share no label: silence them one by one")
    return [Matcher(name, value) for name, value in sorted(shared.items())]


def ack_comment(person: str, note: str, link: str) -> str:
    """Karma's acknowledgement comment, with the alert's page in opsweek."""
    said = f"{ACK_PREFIX} {person}: {note.strip() or 'acknowledged in opsweek'}"
    return f"{said} ({link})" if link else said


def ack_of(comment: str, created_by: str) -> tuple[str, str] | None:
    """(who, note) when ``comment`` is an acknowledgement (Karma's ``ACK!``), else None."""
    found = ACK.match(comment.strip())
    if found is None:
        return None
    return (found["who"] or created_by).strip(), found["note"].strip()


DURATION = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?\Z")


def minutes_of(text: str) -> int:
    """A silence's duration as amtool writes it (``30m``, ``2h``, ``1d``, ``1h30m``), in
    minutes."""
    found = DURATION.match(text.strip())
    if not text.strip() or found is None:
        raise BadInput(f"not a duration: {text!r} (like 30m, 2h, 1d, 1h30m)")
    days, hours, minutes = (int(found[k] or 0) for k in ("d", "h", "m"))
    return days * 1440 + hours * 60 + minutes
