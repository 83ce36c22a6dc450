"""Relayed SAL lines: a bot logging for someone else says ``!log [project] user@host message``
(like the deploy relays do), and the SAL credits ``user``. opsweek reads such lines from the
relay nicks it trusts (`irc.relay_nicks`), and writes one when it publishes its own entries to
IRC (`sal.publish = irc`) for the team's SAL bot. Pure."""

from __future__ import annotations

import re

from opsweek.quoting import irc_text

RELAYED = re.compile(r"^([A-Za-z0-9_.\[\]{}|^`-]{1,64})@([A-Za-z0-9.-]{1,255})\s+(.+)\Z")
NOT_IN_HOST = re.compile(r"[^A-Za-z0-9.-]")
LINE_LIMIT = 400  # bytes of one IRC line, leaving room for the prefix the server adds


def relay_line(nick: str, host: str, message: str, project: str = "", link: str = "") -> str:
    """The ``!log`` line that logs ``message`` for ``nick`` (a nick a relay line cannot carry
    is named after the message instead); a message too long for one line is cut and ends
    with ``link`` (the entry's page)."""
    host = NOT_IN_HOST.sub("", host)[:255] or "opsweek"
    project = "".join(irc_text(project, 64).split())  # one word, no line break in it
    start = f"!log {project} " if project else "!log "
    text, by = irc_text(message, limit=10**6), ""
    if RELAYED.match(f"{nick}@{host} x"):
        start += f"{nick}@{host} "
    else:
        by = f" (by {irc_text(nick, 64)})"
    if _size(start + text + by) > LINE_LIMIT:
        tail = f"… {link}" if link else "…"
        room = LINE_LIMIT - _size(start + tail + by)
        text = text.encode()[: max(room, 0)].decode(errors="ignore").rstrip() + tail
    return start + text + by


def _size(text: str) -> int:
    """Bytes on the wire: IRC counts bytes, and a line over 512 is refused."""
    return len(text.encode())
