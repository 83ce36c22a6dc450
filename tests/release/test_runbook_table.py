"""docs/runbook.md, the runbook procedure by procedure: 41 rows, at least 32 automated, every
command one opsweek's CLI has (its options too), every test one that exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.release.test_shown_commands import check_command

ROOT = Path(__file__).resolve().parents[2]
STATUSES = {"automated", "check + steps", "steps"}


def rows() -> list[list[str]]:
    lines = (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8").splitlines()
    table = [line for line in lines if re.match(r"^\| \d+ \|", line)]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table]


def test_every_procedure_has_its_row_and_32_are_automated() -> None:
    found = rows()
    assert [int(r[0]) for r in found] == list(range(1, 42))
    assert all(len(r) == 6 and r[2] in STATUSES for r in found), [r[:3] for r in found]
    automated = sum(r[2] == "automated" for r in found)
    assert automated >= 32
    text = (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
    assert f"**{automated} of 41 automated.**" in text


def test_every_command_is_the_clis_and_every_test_exists() -> None:
    for number, _, _, _, commands, tests in rows():
        for command in re.findall(r"`([^`]+)`", commands):
            words = shlex.split(command)
            assert words[0] == "opsweek", (number, command)
            check_command(words[1:])
        cited = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", tests)
        assert cited, f"row {number} names no test"
        for path, name in cited:
            source = (ROOT / path).read_text(encoding="utf-8")
            assert re.search(rf"^def {name}\(", source, re.MULTILINE), f"{path}::{name}"
