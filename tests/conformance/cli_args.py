"""Whether an ``opsweek ...`` command line opsweek prints is one its own CLI accepts: parsed
by the real command tree (every group, command, option and argument), nothing run."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import typer


@cache
def _root() -> Any:
    from opsweek.cli import app

    return typer.main.get_command(app)


def parse_cli(argv: Sequence[str]) -> str:
    """The command path ``argv`` resolves to (``check partitions``); AssertionError with the
    CLI's own message when it would refuse it."""
    command, name, args, ctx, path = _root(), "opsweek", list(argv), None, []
    while True:
        try:
            ctx = command.make_context(name, args, parent=ctx, resilient_parsing=False)
        except Exception as exc:  # the CLI's usage errors (a vendored click's classes)
            raise AssertionError(f"opsweek {' '.join(argv)}: {_message(exc)}") from None
        if not hasattr(command, "resolve_command"):
            return " ".join(path)
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        if not rest:
            return " ".join(path)  # a group run alone (its callback does the work)
        try:
            name, command, args = command.resolve_command(ctx, rest)
        except Exception as exc:
            raise AssertionError(f"opsweek {' '.join(argv)}: {_message(exc)}") from None
        path.append(name)


def _message(exc: Exception) -> str:
    format_message = getattr(exc, "format_message", None)
    return str(format_message()) if callable(format_message) else str(exc)
