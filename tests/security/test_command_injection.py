"""No value from an alert can make a printed command do something else: every detail of every
conformance case, replaced by hostile text, either leaves its command out or stays one
argument of it. Commands run under the recording stubs with a program named `evil` among
them: if it ever runs, a value escaped its quoting."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from hypothesis import given
from hypothesis import strategies as st

from tests.conformance.alert_cases import AlertCase, cases
from tests.conformance.expect import parse_hive
from tests.conformance.harness import Shell

CASES = cases()
ATTACKS = [
    "$(evil)",
    "`evil`",
    "; evil",
    "| evil",
    "& evil &",
    "\nevil",
    "' ; evil ; '",
    '" ; evil ; "',
    "-H evil",
    "--output=/tmp/x",
    "~evil",
    "*",
    "a'b\\'c",
    "x' OR '1'='1",
    "1; DROP TABLE t",
    "<!channel>",
    "https://x.example/a b",
    "javascript:evil()",
    "\x01\x02\x1b[31m",
]
hostile = st.sampled_from(ATTACKS) | st.builds(
    lambda a, b: a + b, st.sampled_from(ATTACKS), st.text(max_size=12)
)


def string_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Where text sits in the details: keys, and indexes into lists and nested mappings."""
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in string_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in string_paths(v, (*path, i))]
    return []


def replaced(value: Any, path: tuple[Any, ...], new: str) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = replaced(copy[head], rest, new)
    return copy


TOOLS = sorted({tool for case in CASES for tool in case.tools})
SHELL = Shell(Path(tempfile.mkdtemp(prefix="opsweek-injection-")), extra=["evil", *TOOLS])


@pytest.mark.timeout(0)  # the long profile (by hand) runs thousands of commands
@given(case=st.sampled_from(CASES), data=st.data(), attack=hostile)
def test_hostile_details_never_escape_their_command(
    case: AlertCase, data: st.DataObject, attack: str
) -> None:
    paths = string_paths(case.alert.details)
    path = data.draw(st.sampled_from(paths))
    details = replaced(case.alert.details, path, attack)
    alert = replace(case.alert, details=details)
    for step in replace(case, alert=alert).steps():
        if not step.command:
            continue
        if step.lang == "shell":
            calls = SHELL.run(step.command, step.host)
            assert "evil" not in {c.prog for c in calls}, (path, attack, step.command)
        elif step.lang == "sql":
            parse_hive(step.command)
            assert len(sqlglot.parse(step.command, read="hive")) == 1  # one statement
        elif step.lang == "url":
            assert not any(c in step.command for c in " \n\"'<>`"), step.command
            assert step.command.startswith(("https://", "http://"))
        elif step.lang == "irc":
            assert "\n" not in step.command and "\r" not in step.command
