"""Team members as plain values, and the rules their fields must follow."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from opsweek.errors import BadInput
from opsweek.timeutil import zone

USERNAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,63}\Z")
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+\Z")
IRC_NICK = re.compile(r"^[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]{0,31}\Z")


@dataclass(frozen=True)
class PersonRecord:
    username: str
    name: str = ""
    email: str = ""
    irc_nick: str = ""
    slack_id: str = ""
    timezone: str = "UTC"
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def validated(self) -> PersonRecord:
        """This record with fields trimmed, or BadInput naming the first bad field."""
        record = replace(
            self,
            **{
                name: str(getattr(self, name)).strip()
                for name in ("username", "name", "email", "irc_nick", "slack_id", "timezone")
            },
        )
        check_username(record.username)
        if record.email and not EMAIL.match(record.email):
            raise BadInput(f"invalid e-mail address {record.email!r} for {record.username}")
        if record.irc_nick and not IRC_NICK.match(record.irc_nick):
            raise BadInput(f"invalid IRC nick {record.irc_nick!r} for {record.username}")
        try:
            zone(record.timezone or "UTC")
        except ValueError as exc:
            raise BadInput(f"{exc} for {record.username}") from None
        return replace(record, timezone=record.timezone or "UTC")


def check_username(username: str) -> str:
    if not USERNAME.match(username):
        raise BadInput(
            f"invalid username {username!r}: use lower-case letters, digits, "
            "'_', '-' or '.', starting with a letter or '_'"
        )
    return username
