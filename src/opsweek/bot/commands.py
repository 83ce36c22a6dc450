"""What a line in the team channel asks the SAL bot. Pure: text in, a command out.

!log <message>                 a SAL entry by the sender
!log <project> <message>       ... for a known project
!log user@host <message>       from a relay nick: credits user, on host
!opsweek who | !opsweek alerts read-only questions
!ack <id>                      acknowledge an alert (when enabled)
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from opsweek.sal.relay import RELAYED

ALERT_ID = re.compile(r"#?([0-9]{1,18})")  # ASCII digits only: str.isdigit() takes "²"


@dataclass(frozen=True)
class LogEntry:
    nick: str
    message: str
    project: str = ""
    host: str = ""


@dataclass(frozen=True)
class Question:
    topic: str  # who, alerts


@dataclass(frozen=True)
class Ack:
    alert_id: int


Command = LogEntry | Question | Ack


def parse(
    sender: str, text: str, projects: Collection[str], relay_nicks: Collection[str]
) -> Command | None:
    words = text.strip().split(maxsplit=1)
    if not words:
        return None
    verb, rest = words[0].lower(), (words[1] if len(words) > 1 else "").strip()
    if verb == "!log" and rest:
        project = ""
        first, _, remainder = rest.partition(" ")
        if first.lower() in {p.lower() for p in projects} and remainder.strip():
            project, rest = first.lower(), remainder.strip()
        nick, host = sender, ""
        relayed = RELAYED.match(rest)
        if relayed and sender.lower() in {n.lower() for n in relay_nicks}:
            nick, host, rest = relayed.group(1), relayed.group(2), relayed.group(3)
        return LogEntry(nick, rest, project, host)
    if verb == "!opsweek" and rest.lower() in ("who", "alerts"):
        return Question(rest.lower())
    if verb == "!ack":
        alert_id = ALERT_ID.fullmatch(rest)
        return Ack(int(alert_id.group(1))) if alert_id else None
    return None
