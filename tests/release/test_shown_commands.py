"""Every `opsweek ...` command the README and the hand-written documentation pages show exists,
with the options they give it, and every setting they name is one opsweek has: a renamed
command or setting fails here, not in a newcomer's shell."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from opsweek.config.declared import SETTINGS, TABLE_LISTS

ROOT = Path(__file__).resolve().parents[2]
GENERATED = {"changelog.md", "architecture.md"}  # made from the code (reference/ too)
PAGES = [ROOT / "README.md"] + [
    page for page in sorted((ROOT / "docs").glob("*.md")) if page.name not in GENERATED
]


def check_command(words: list[str]) -> Any:
    """The CLI command ``opsweek WORDS...`` names, its subcommands and options checked
    (``[--opt]`` and ``--a|--b`` as usage lines write them); AssertionError when one is not
    opsweek's. Other words are arguments and option values."""
    from opsweek.cli import app

    shown = " ".join(["opsweek", *words])
    command: Any = typer.main.get_command(app)
    ctx = None
    skip = False
    for word in words:
        if skip and not word.lstrip("[(").startswith("-"):
            skip = False
            continue  # the value of the option before
        skip = False
        bare = word.strip("[]()")
        if bare in ("...", "…"):
            break  # "opsweek ..." : any command
        if bare.startswith("-") and len(bare) > 1 and not bare[1:].isdigit():
            for option in re.split(r"[|]", bare):
                name = option.split("=")[0].strip("[]")
                if not name.startswith("-"):
                    continue
                params = [
                    p
                    for p in command.params
                    if name in [*getattr(p, "opts", []), *getattr(p, "secondary_opts", [])]
                ]
                assert params, f"{shown}: no option {name}"
                takes_value = not getattr(params[0], "is_flag", False)
                skip = takes_value and "=" not in option
            continue
        if hasattr(command, "list_commands"):
            ctx = command.make_context("opsweek", [], resilient_parsing=True, parent=ctx)
            found = command.get_command(ctx, word)
            assert found is not None, f"{shown}: no command {word}"
            command = found
    group_only = hasattr(command, "list_commands") and not command.invoke_without_command
    assert not group_only or not words or words[-1] in ("...", "…"), f"{shown}: a group only"
    return command


def shown_commands(text: str) -> list[list[str]]:
    """The ``opsweek`` commands in a page: the lines of its shell blocks (continued lines
    joined, ``&&``/``;``/``|`` split, comments dropped) and its inline code."""
    found: list[str] = []
    for block in re.findall(r"```(?:sh|shell|bash)\n(.*?)```", text, re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            found += re.split(r"\s(?:&&|;|\|\|?)\s", line)
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    found += re.findall(r"`(opsweek [^`]+)`", prose)
    commands = []
    for candidate in found:
        words = shlex.split(candidate, comments=True)
        if words and words[0].endswith("/opsweek"):
            words[0] = "opsweek"  # .venv/bin/opsweek
        if words and words[0] == "opsweek" and len(words) > 1:
            commands.append(words[1:])
    return commands


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_shown_exists(page: Path) -> None:
    commands = shown_commands(page.read_text(encoding="utf-8"))
    for words in commands:
        check_command(words)
    if page.name in ("README.md", "guide.md"):
        assert len(commands) >= 5


SECTIONS = {s.name.split(".")[0] for s in SETTINGS if "." in s.name}
NAMES = {s.name for s in SETTINGS} | {t.name for t in TABLE_LISTS}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_setting_named_exists(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for name in re.findall(r"`([a-z_]+\.[a-z_*]+)(?: = [^`]*)?`", text):
        if name.split(".")[0] not in SECTIONS or name.endswith((".py", ".toml", ".md")):
            continue
        if name.endswith("*"):
            assert any(n.startswith(name[:-1]) for n in NAMES), f"{page.name}: {name}"
        else:
            assert name in NAMES, f"{page.name}: no setting {name}"


def test_the_checker_finds_what_does_not_exist() -> None:
    with pytest.raises(AssertionError, match="no option --value"):
        check_command(["duties", "start", "onboarding", "--value", "x"])
    with pytest.raises(AssertionError, match="no command teleport"):
        check_command(["alerts", "teleport"])
    check_command(["--config", "opsweek.toml", "doctor", "--json"])
    assert shown_commands("```sh\nopsweek who  # now\nx && opsweek today --json\n```") == [
        ["who"],
        ["today", "--json"],
    ]
