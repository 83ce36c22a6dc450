"""The team channel's lines, as the IRC bot hears them: kept for `irc.keep_days`, and those
of the last hours that matter to the person on duty picked out for Today: a line naming them,
a line sharing a reference (a job, table, host, unit, task) with an open alert, or a line with
one of the team's words (`irc.watch_words`)."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from opsweek.db.models import ChannelLine
from opsweek.sal.refs import extract_refs
from opsweek.timeutil import iso

MAX_TEXT = 510  # an IRC line cannot be longer
MAX_LINES = 100_000  # kept at most, whatever the channel's pace: a flood cannot fill the disk


def keep_line(
    session: Session, at: datetime, channel: str, nick: str, text: str, keep_days: int
) -> None:
    """Store one line, and forget those older than ``keep_days`` and all but the newest
    `MAX_LINES`."""
    line = ChannelLine(at=at, channel=channel[:64], nick=nick[:64], text=text[:MAX_TEXT])
    session.add(line)
    session.flush()
    session.execute(
        delete(ChannelLine).where(
            (ChannelLine.at < at - timedelta(days=keep_days))
            | (ChannelLine.id <= line.id - MAX_LINES)
        )
    )


@dataclass(frozen=True)
class Mention:
    at: datetime
    channel: str
    nick: str
    text: str
    why: str  # what made it matter: "names ana", "refine_event (alert 42)", "word: hive"

    def as_json(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "channel": self.channel,
            "nick": self.nick,
            "text": self.text,
            "why": self.why,
        }


def mentions(
    lines: Iterable[ChannelLine],
    names: Collection[str],
    alert_refs: dict[str, int],
    words: Collection[str],
    own_nicks: Collection[str] = (),
) -> list[Mention]:
    """The lines that matter (pure): ``names`` are the person on duty's; ``alert_refs`` maps
    a reference value to an open alert having it; the bot's ``own_nicks`` lines are left out."""
    wanted_names = {n.lower() for n in names if n}
    wanted_words = {w.lower() for w in words if w}
    found = []
    for line in lines:
        if line.nick.lower() in {n.lower() for n in own_nicks}:
            continue
        why = _why(line.text, wanted_names, alert_refs, wanted_words)
        if why:
            found.append(Mention(line.at, line.channel, line.nick, line.text, why))
    return found


def _why(text: str, names: set[str], alert_refs: dict[str, int], words: set[str]) -> str:
    tokens = set(re.findall(r"[\w.-]+", text.lower()))
    named = sorted(names & {t.strip(".-:,") for t in tokens})
    if named:
        return f"names {named[0]}"
    for ref in extract_refs(text):
        if ref.value in alert_refs:
            return f"{ref.value} (alert {alert_refs[ref.value]})"
    said = sorted(words & tokens)
    return f"word: {said[0]}" if said else ""


def recent_lines(session: Session, since: datetime) -> list[ChannelLine]:
    return list(
        session.scalars(select(ChannelLine).where(ChannelLine.at >= since).order_by(ChannelLine.at))
    )
