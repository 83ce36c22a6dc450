#!/usr/bin/env python3
"""Write the documentation site's pages made from the code: every command with its help and
options (docs/reference/commands.md), every setting with its default and meaning
(docs/reference/settings.md), and the changes (docs/changelog.md, from CHANGELOG.md).
tests/release/test_docs.py fails when they are out of date.

    .venv/bin/python scripts/reference.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1] / "docs"


def commands_markdown() -> str:
    import click
    import typer.main

    from opsweek.cli import app

    lines = [
        "# Commands",
        "",
        "Every command of `opsweek`, as `opsweek COMMAND --help` shows it. Each takes `--json`.",
        "",
    ]

    def walk(group: Any, prefix: tuple[str, ...]) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            path = (*prefix, name)
            if hasattr(command, "list_commands"):
                walk(command, path)
                continue
            lines.append(f"## opsweek {' '.join(path)}")
            lines.append("")
            lines.append(" ".join((command.help or "").split()))
            lines.append("")
            params = [p for p in command.params if getattr(p, "opts", None)]
            if params:
                lines.append("| argument or option | meaning |")
                lines.append("| --- | --- |")
                for param in params:
                    names = ", ".join(f"`{o}`" for o in (param.opts or [param.name or ""]))
                    help_text = " ".join((getattr(param, "help", None) or "").split())
                    lines.append(f"| {names} | {help_text.replace('|', '/')} |")
                lines.append("")

    walk(typer.main.get_command(app), ())
    return "\n".join(lines).rstrip() + "\n"


def settings_markdown() -> str:
    from opsweek.config.declared import SETTINGS

    lines = [
        "# Settings",
        "",
        "Every setting: in `opsweek.toml` (`[section]` then `key = value`) or as an environment",
        "variable (`OPSWEEK_SECTION_KEY`). `opsweek config show` prints the values in effect",
        "and where each came from; secrets are shown masked.",
        "",
        "| setting | environment variable | default | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for setting in SETTINGS:
        default = "(empty)" if setting.default in ("", None) else f"`{setting.default}`"
        meaning = " ".join(setting.help.split()).replace("|", "/")
        if setting.secret:
            meaning += " *(secret)*"
        lines.append(f"| `{setting.name}` | `{setting.env_var}` | {default} | {meaning} |")
    return "\n".join(lines) + "\n"


def changelog_markdown() -> str:
    """The site's Changes page: CHANGELOG.md as it is (the file operators look for)."""
    return (DOCS.parent / "CHANGELOG.md").read_text(encoding="utf-8")


PAGES = {
    "reference/commands.md": commands_markdown,
    "reference/settings.md": settings_markdown,
    "changelog.md": changelog_markdown,
}


def main() -> int:
    for name, make in PAGES.items():
        (DOCS / name).parent.mkdir(parents=True, exist_ok=True)
        (DOCS / name).write_text(make(), encoding="utf-8")
        print(f"wrote {DOCS / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
