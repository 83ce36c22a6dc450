"""How the CLI speaks: JSON for machines, Rich for people, one line for errors."""

import json
import sys
from datetime import date, datetime
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=_default, ensure_ascii=False) + "\n")


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr, then exit with ``code``."""
    errors.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def note(message: str) -> None:
    errors.print(message, soft_wrap=True)


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%a %d %b %Y %H:%M %Z")


def short_time(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%a %d %b %H:%M")


PROMPTS = {"shell": "$", "sql": "sql>", "url": "open", "irc": "IRC"}


def step_lines(step: Any) -> tuple[str, str]:
    """The prompt a step's command is shown after, and the command itself. ``step`` is a
    `opsweek.steps.Step` or its JSON."""
    data = step.as_json() if hasattr(step, "as_json") else step
    lang, host = data.get("lang", ""), data.get("host", "")
    prompt = PROMPTS.get(lang, "$")
    if host:
        prompt = f"{host} {prompt}"
    return prompt, data.get("command", "")


def print_steps(steps: Any, indent: str = " ") -> None:
    """Numbered steps, each command on its own line after its prompt: copied as it is (never
    wrapped, no markup read in it)."""
    for number, step in enumerate(steps, start=1):
        data = step.as_json() if hasattr(step, "as_json") else step
        console.print(Text(f"{indent}{number}. {data['text']}"), soft_wrap=True)
        if data.get("command"):
            prompt, command = step_lines(data)
            console.print(
                Text.assemble((f"{indent}   {prompt} ", "dim"), (command, "cyan")), soft_wrap=True
            )
