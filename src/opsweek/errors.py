"""Typed errors. Each reaches the user as one line; ``exit_code`` follows the CLI convention."""


class OpsweekError(Exception):
    """Base class: something the user can act on. Never shown with a traceback."""

    exit_code = 2


class BadInput(OpsweekError):
    """Input that cannot be accepted: bad date, unknown timezone, malformed CSV line..."""


class ConfigError(OpsweekError):
    """opsweek.toml or an OPSWEEK_* variable is invalid."""


class NotFound(OpsweekError):
    """A named thing (user, week, alert) does not exist."""


class Conflict(OpsweekError):
    """The change would break a rule (availability, consecutive weeks, no eligible person)."""


class Unavailable(OpsweekError):
    """An outside service (tracker, chat, mail server) could not be reached or refused."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (JVM errors carry pages of stack), or its
    type when it says nothing."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
