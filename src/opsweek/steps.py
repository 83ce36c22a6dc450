"""A step of a procedure as opsweek hands it over: what to do, and the exact command, in the
language it is written in, with where it runs, as whom, and whether it changes anything.
Alerts' runbook steps, duties' checklists and the checks' fixes are all steps, so every
interface shows (and every test runs) them alike.

- where: a host name, or a place (`PLACES`: your laptop, a stat host, an Airflow instance's
  UI); "" for a link to open or a line to say on IRC.
- as whom: read from the command itself, so it can never say another than what runs: the
  ``sudo -u USER`` account (``kerberos-run-command USER``: with that account's keytab),
  ``root`` for a plain ``sudo``, else the person who runs it.
- what it is: ``read`` (a diagnostic that changes nothing), ``change``; "" when it is no
  command to run (a link, an IRC line)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

LANGS = ("shell", "sql", "url", "irc")
READ, CHANGE = "read", "change"
EFFECTS = (READ, CHANGE)
YOURSELF = "you"  # a command run as the person who pastes it
# places a command runs that are not one host
PLACES = ("your laptop", "a stat host", "the Airflow UI", "where opsweek is installed")


@dataclass(frozen=True)
class Step:
    text: str
    command: str = ""
    lang: str = ""  # shell, sql (Hive/Spark), url, irc; "" when there is no command
    host: str = ""  # where the command runs (a host or a place); "" for a link or an IRC line
    id: str = ""  # a stable name for the step, where it has one
    effect: str = ""  # read, change; "" for no command to run

    @property
    def runs(self) -> bool:
        """A command a person or opsweek runs somewhere (not a link, not an IRC line)."""
        return bool(self.command) and self.lang in ("shell", "sql")

    @property
    def as_whom(self) -> str:
        """The account the command acts as (see the module's doc)."""
        if self.lang != "shell" or not self.command:
            return ""
        try:
            words = shlex.split(self.command)
        except ValueError:
            return YOURSELF
        if words[:2] == ["sudo", "-u"] and len(words) > 2:
            return words[2]
        return "root" if words[:1] == ["sudo"] else YOURSELF

    @property
    def keytab(self) -> str:
        """The Kerberos principal it authenticates as (``kerberos-run-command USER``)."""
        words = self.command.split()
        if "kerberos-run-command" in words:
            at = words.index("kerberos-run-command")
            return words[at + 1] if at + 1 < len(words) else ""
        return ""

    def where_line(self) -> str:
        """Where and as whom, as every interface says it: ``on HOST as USER, read-only``."""
        if not self.runs:
            return ""
        parts = [f"on {self.host}" if self.host else "anywhere"]
        if self.as_whom and self.as_whom != YOURSELF:
            parts.append(f"as {self.as_whom}")
            if self.keytab:
                parts[-1] += f" (Kerberos: {self.keytab})"
        if self.effect:
            parts[-1] += ", read-only" if self.effect == READ else ", changes things"
        return " ".join(parts)

    def as_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "text": self.text,
            "command": self.command,
            "lang": self.lang,
            "host": self.host,
            "as": self.as_whom,
            "effect": self.effect,
        }

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Step:
        return cls(
            str(data.get("text", "")),
            str(data.get("command", "")),
            str(data.get("lang", "")),
            str(data.get("host", "")),
            str(data.get("id", "")),
            str(data.get("effect", "")),
        )
