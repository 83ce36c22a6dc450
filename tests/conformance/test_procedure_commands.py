"""The commands of the offboarding plan, the duties' checklists and the deployment train, run
under the recording stubs against the runbook's own commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsweek.offboard.plan import ACTIONS
from opsweek.steps import Step
from tests.conformance.expect import Expect, Irc, parse_hive, sh
from tests.conformance.harness import Shell, call, leaves
from tests.conformance.procedures import CUMIN, duties, duty_steps, offboarding_plan, train_steps

LAUNCHER = "an-launcher1002.eqiad.wmnet"
DEPLOY = "deployment.eqiad.wmnet"
ALLOWLIST = "/wmf/refinery/current/static_data/pageview/allowlist/allowlist.tsv"


def as_hdfs(prog: str, *args: str) -> Expect:
    return sh(call(prog, *args, user="hdfs", principal="hdfs"))


# the runbook's offboarding commands, as run from an-launcher1002 and cumin1001
PLAN = [
    ("transfer_owner", as_hdfs("hive", "-e", "ALTER TABLE `team`.`shared` SET OWNER USER hpatel;")),
    ("archive_mkdir", as_hdfs("hdfs", "dfs", "-mkdir", "-p", "/wmf/data/archive/user/elvis")),
    (
        "archive_move",
        as_hdfs("hdfs", "dfs", "-mv", "/user/elvis/project", "/wmf/data/archive/user/elvis/"),
    ),
    (
        "archive_chown",
        as_hdfs(
            "hdfs",
            "dfs",
            "-chown",
            "-R",
            "hdfs:analytics-privatedata-users",
            "/wmf/data/archive/user/elvis",
        ),
    ),
    ("drop_database", as_hdfs("hive", "-e", "DROP DATABASE `elvis_scratch` CASCADE;")),
    ("remove_hdfs", as_hdfs("hdfs", "dfs", "-rm", "-r", "/user/hive/warehouse/elvis_scratch.db")),
    ("remove_hdfs", as_hdfs("hdfs", "dfs", "-rm", "-r", "/user/elvis")),
    (
        "remove_home",
        sh(call("rm", "-rf", "/srv/home/elvis", host=f"cumin({CUMIN})", user="root")),
    ),
    (
        "remove_home",
        sh(
            call("rm", "-rf", "/var/userarchive/elvis.tar.bz2", host=f"cumin({CUMIN})", user="root")
        ),
    ),
]


def test_the_offboarding_plan_runs_the_runbooks_commands(tmp_path: Path) -> None:
    plan = offboarding_plan(tmp_path / "cluster")
    assert [s.action for s in plan.steps] == [action for action, _ in PLAN]
    assert {action for action, _ in PLAN} == set(ACTIONS)  # every kind of step is covered
    shell = Shell(tmp_path / "stubs")
    for step, (_, want) in zip(plan.steps, PLAN, strict=True):
        want.check(Step(step.target, step.command, "shell"), shell)
        for hive in (c for c in leaves(shell.run(step.command)) if c.prog == "hive"):
            parse_hive(hive.argv[1])  # the statement as Hive receives it
    assert plan.script().count("\n") > len(plan.steps)  # the reviewable script has them all
    script = shell.syntax(plan.script())
    assert script.returncode == 0, script.stderr


# every duty step with a command, by duty key and step number, for its occurrence's values
DUTIES: dict[tuple[str, int], Expect] = {
    ("alarms", 1): sh(call("opsweek", "alerts", "list", "--status", "firing")),
    ("alarms", 2): sh(call("opsweek", "sal", "list", "--limit", "20")),
    ("collab-channel", 1): sh(call("opsweek", "today")),
    ("new-wikis", 1): sh(call("opsweek", "check", "new-wikis")),
    ("mw-history-snapshot", 1): sh(call("opsweek", "check", "mw-history")),
    ("deployment-train", 1): sh(call("opsweek", "train", "status")),
    ("handoff", 4): sh(call("opsweek", "handoff")),
    ("handoff", 5): sh(call("opsweek", "handoff", "--publish", "slack,email")),
    ("offboarding", 1): sh(call("opsweek", "offboard", "check", "elvis")),
    ("offboarding", 2): sh(
        call("opsweek", "offboard", "plan", "elvis", "-o", "elvis-offboarding.json")
    ),
    ("offboarding", 3): sh(
        call("opsweek", "offboard", "execute", "elvis-offboarding.json", "--yes")
    ),
    ("irc", 1): sh(call("opsweek", "today")),
    ("onboarding", 3): sh(
        call("hdfs", "dfs", "-mkdir", "-p", "/user/nadia", user="hdfs", principal="hdfs"),
        host=LAUNCHER,
    ),
    ("onboarding", 4): sh(
        call("hdfs", "dfs", "-chown", "nadia", "/user/nadia", user="hdfs", principal="hdfs"),
        host=LAUNCHER,
    ),
    ("onboarding", 5): sh(call("opsweek", "onboard", "check", "nadia")),
    ("onboarding", 6): sh(call("hdfs", "dfs", "-ls", "/user/nadia"), host="stat1008.eqiad.wmnet"),
    ("new-wiki", 1): sh(call("analytics-mysql", "azywiki")),
    ("new-wiki", 2): sh(call("opsweek", "check", "new-wikis", "--write")),
    ("new-wiki", 3): sh(
        call("scp", "static_data/pageview/allowlist/allowlist.tsv", "an-launcher1002.eqiad.wmnet:")
    ),
    ("new-wiki", 4): sh(
        call(
            "hdfs", "dfs", "-put", "-f", "allowlist.tsv", ALLOWLIST, user="hdfs", principal="hdfs"
        ),
        host=LAUNCHER,
    ),
    ("new-wiki", 5): sh(
        call("hdfs", "dfs", "-chmod", "+r", ALLOWLIST, user="hdfs", principal="hdfs"),
        host=LAUNCHER,
    ),
}
for number, service in ((1, "edit-analytics"), (6, "editor-analytics")):
    where = f"/srv/deployment-charts/helmfile.d/services/{service}"
    DUTIES[("mw-history-deploy", number)] = sh(
        call("git", "log", "-n", "1", cwd=where), host=DEPLOY
    )
    for offset, env in enumerate(("staging", "codfw", "eqiad"), start=1):
        DUTIES[("mw-history-deploy", number + offset)] = sh(
            call("helmfile", "-e", env, "-i", "apply", "--context=5", cwd=where), host=DEPLOY
        )
    DUTIES[("mw-history-deploy", number + 4)] = Irc(
        f"!log deployed {service} (staging, codfw, eqiad) with mediawiki_history snapshot 2026-10"
    )


@pytest.mark.parametrize("key", sorted(duties()))
def test_every_duty_command_is_right(key: str, tmp_path: Path) -> None:
    shell = Shell(tmp_path)
    steps = duty_steps(key)
    with_commands = {n for n, s in enumerate(steps, start=1) if s.command}
    expected = {n for k, n in DUTIES if k == key}
    assert with_commands == expected, f"{key}: commands at {with_commands}, cases for {expected}"
    for number in sorted(with_commands):
        DUTIES[(key, number)].check(steps[number - 1], shell)


def test_the_train_steps(tmp_path: Path) -> None:
    steps = train_steps()
    commands = [s for s in steps if s.command]
    assert len(commands) == 2
    shell = Shell(tmp_path)
    sh(call("opsweek", "train", "status")).check(commands[0], shell)
    sh(call("opsweek", "train", "deployed", "refinery", "1caee0129b94")).check(commands[1], shell)
