"""Every command of every alert kind's runbook steps, run as a person would paste it (shell
commands under recording stubs; SQL parsed as Hive; links and IRC lines checked), against what
the runbook says it must be."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from opsweek.steps import Step
from tests.conformance.alert_cases import AlertCase, cases
from tests.conformance.harness import Shell

CASES = cases()


def commands_by_id(steps: list[Step]) -> dict[str, list[Step]]:
    found: dict[str, list[Step]] = defaultdict(list)
    for step in steps:
        if step.command:
            found[step.id].append(step)
    return found


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_command_is_what_the_runbook_says(case: AlertCase, tmp_path: Path) -> None:
    shell = Shell(tmp_path, case.tools, case.canned)
    found = commands_by_id(case.steps())
    assert set(found) == set(case.expect), (
        f"{case.kind}: commands {sorted(found)} but the case covers {sorted(case.expect)}"
    )
    for step_id, steps in found.items():
        expected = case.expect[step_id]
        assert len(steps) == len(expected), (
            f"{step_id}: {len(steps)} steps, {len(expected)} expected"
        )
        for step, want in zip(steps, expected, strict=True):
            want.check(step, shell)
    ids = {s.id for s in case.steps()}
    assert not set(case.absent) & ids, f"steps that must not be there: {set(case.absent) & ids}"
