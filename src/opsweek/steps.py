"""A step of a procedure as opsweek hands it over: what to do, and the exact command, in the
language it is written in and with where it runs. Alerts' runbook steps, duties' checklists and
the checks' fixes are all steps, so every interface shows (and every test runs) them alike."""

from __future__ import annotations

from dataclasses import dataclass

LANGS = ("shell", "sql", "url", "irc")


@dataclass(frozen=True)
class Step:
    text: str
    command: str = ""
    lang: str = ""  # shell, sql (Hive/Spark), url, irc; "" when there is no command
    host: str = ""  # where the command runs; "" for anywhere (a URL, your own shell)
    id: str = ""  # a stable name for the step, where it has one

    def as_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "text": self.text,
            "command": self.command,
            "lang": self.lang,
            "host": self.host,
        }

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Step:
        return cls(
            str(data.get("text", "")),
            str(data.get("command", "")),
            str(data.get("lang", "")),
            str(data.get("host", "")),
            str(data.get("id", "")),
        )
