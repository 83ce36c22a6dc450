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


def _summary(path: Path) -> str:
    """The first sentence of a module's docstring, on one line."""
    import ast

    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    paragraph = " ".join(doc.split("\n\n")[0].split())
    head, dot, _ = paragraph.partition(". ")
    return (head + dot).strip().replace("|", "/")


def architecture_markdown() -> str:
    """The source tree, layer by layer as tests/test_layers.py holds them (top first): each
    package's or module's first sentence and its modules. Made from the code: it cannot drift."""
    import importlib.util

    root = DOCS.parent
    spec = importlib.util.spec_from_file_location("layers", root / "tests" / "test_layers.py")
    assert spec and spec.loader
    layers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(layers)
    src = root / "src" / "opsweek"
    lines = [
        "# Architecture",
        "",
        "The packages of `src/opsweek/`, top layer first. Each imports only from the layers",
        "numbered below its own: `tests/test_layers.py` holds the order against every import.",
        "This page is made from that order and from each package's own description",
        "(`scripts/reference.py`), so it cannot drift from the code.",
        "",
        "Domain logic is pure and lives in the services (`alerts/`, `duties/`, `rotation/`...);",
        "I/O with outside systems is in `adapters/`; `app.py` builds everything from the",
        "settings; the interfaces (`cli/`, `web/`, `bot/`, `server.py`) parse, call, render.",
        "Alert state changes one way only: `alerts/changes.py`. Why it is built this way:",
        "[design](design.md).",
        "",
        "**The path of a webhook**: `web/routes/intake.py` reads the body and checks the token",
        "(`web/auth.py`), then `AlertChanges.take` (`alerts/changes.py`) parses it",
        "(`alerts/parse.py`, one parser per kind in `alerts/sources/`) and stores it under",
        "`Store.writing` (`db/session.py`: one writer at a time across workers), where",
        "`alerts/intake.py` and `alerts/triage.py` fold it into alerts; then the answer. The SMTP",
        "listener and IMAP poller (`adapters/mail.py`) call the same `take`.",
        "",
        "**The path of a CLI command**: `cli/__init__.py` (the Typer app) hands `opsweek alerts",
        "ack 3` to `cli/alerts.py`, which gets the `App` from `cli/state.py` (built from",
        "`config/settings.py`), calls the service (`App.acknowledge`, then `AlertChanges.ack`)",
        "and prints with `cli/output.py` (text, or `--json`).",
        "",
        "| layer | package | what it is | modules |",
        "| --- | --- | --- | --- |",
    ]
    for number, layer in reversed(list(enumerate(layers.LAYERS))):
        for package in sorted(layer - {"opsweek", "__main__"}):
            folder = src / package
            if folder.is_dir():
                modules = sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
                subfolders = sorted(
                    f"{d.name}/"
                    for d in folder.iterdir()
                    if d.is_dir() and (d / "__init__.py").exists()
                )
                what = _summary(folder / "__init__.py")
                name = f"`{package}/`"
                listed = ", ".join(f"`{m}`" for m in [*subfolders, *modules])
            else:
                what, name, listed = _summary(src / f"{package}.py"), f"`{package}.py`", ""
            lines.append(f"| {number} | {name} | {what} | {listed} |")
    return "\n".join(lines) + "\n"


PAGES = {
    "architecture.md": architecture_markdown,
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
