"""The offboarding rules, a scan of local files and hosts, and the plan built from it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsweek.adapters.fs import Files
from opsweek.adapters.hive import TableInfo
from opsweek.adapters.hosts import LocalHost
from opsweek.errors import BadInput
from opsweek.offboard.plan import build_plan, command_for, plan_from_json
from opsweek.offboard.rules import check_user, removable_hdfs, removable_host_path
from opsweek.offboard.scan import DatabaseFinding, Scanner, TableFinding
from tests.offboard.fixtures import hdfs_tree, host_tree

WAREHOUSE = "/user/hive/warehouse"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "name", ["../root", "el/vis", "elvis*", "elvis;rm -rf /", "$(id)", "Elvis", "", "a b", "-rf"]
)
def test_user_names_that_are_refused(name: str) -> None:
    with pytest.raises(BadInput, match="refusing user name"):
        check_user(name)


def test_what_may_be_removed() -> None:
    assert removable_hdfs("elvis", "/user/elvis", WAREHOUSE)
    assert removable_hdfs("elvis", "/user/elvis/project", WAREHOUSE)
    assert removable_hdfs("elvis", f"{WAREHOUSE}/elvis_scratch.db", WAREHOUSE)
    assert not removable_hdfs("elvis", "/user/elvisa", WAREHOUSE)
    assert not removable_hdfs("elvis", f"{WAREHOUSE}/team.db", WAREHOUSE)
    assert not removable_hdfs("elvis", "/wmf/data/raw", WAREHOUSE)
    with pytest.raises(BadInput):
        removable_hdfs("elvis", "/user/elvis/../hdfs", WAREHOUSE)
    assert removable_host_path("elvis", "/srv/home/elvis")
    assert removable_host_path("elvis", "/var/userarchive/elvis.tar.bz2")
    assert not removable_host_path("elvis", "/var/userarchive/elvisa.tar.bz2")
    assert not removable_host_path("elvis", "/srv/home")


@pytest.fixture
def scanned(tmp_path: Path):  # type: ignore[no-untyped-def]
    hdfs, host = tmp_path / "hdfs", tmp_path / "stat1008"
    hdfs_tree(hdfs)
    host_tree(host)
    files = Files(hdfs.as_uri())
    scanner = Scanner(files, [LocalHost("stat1008", str(host))], None, WAREHOUSE, limit=20)
    return files, scanner.scan("elvis")


def test_scan_of_files_and_hosts(scanned) -> None:  # type: ignore[no-untyped-def]
    _, report = scanned
    data = report.as_json()
    homes, hdfs, hive = data["checks"]
    assert {(e["host"], e["path"]) for e in homes["entries"]} == {
        ("stat1008", "/srv/home/elvis"),
        ("stat1008", "/var/userarchive/elvis.tar.bz2"),
    }
    home = hdfs["home"]
    assert home["files"] == 63 and home["summarized"] is True
    trash = next(e for e in home["entries"] if e["path"] == "/user/elvis/.Trash")
    assert (trash["type"], trash["files"]) == ("summary", 60)
    assert [w["path"] for w in hdfs["warehouse_dirs"]] == [f"{WAREHOUSE}/elvis_scratch.db"]
    assert hive["found"] is False
    assert report.any_found and not report.failed


def test_plan_orders_archives_before_removals(scanned) -> None:  # type: ignore[no-untyped-def]
    files, report = scanned
    plan = build_plan(
        report,
        ["/user/elvis/project"],
        {},
        archive_dir="/wmf/data/archive/user",
        archive_owner="hdfs:analytics-privatedata-users",
        cumin_hosts="C:profile::analytics::cluster::client or C:profile::hadoop::master",
        created_by="ana",
        created_at=NOW,
        fingerprint=lambda path, exclude: files.fingerprint(path, tuple(exclude)),
    )
    actions = [(s.action, s.target) for s in plan.steps]
    assert actions == [
        ("archive_mkdir", "/wmf/data/archive/user/elvis"),
        ("archive_move", "/user/elvis/project"),
        ("archive_chown", "/wmf/data/archive/user/elvis"),
        ("remove_hdfs", f"{WAREHOUSE}/elvis_scratch.db"),
        ("remove_hdfs", "/user/elvis"),
        ("remove_home", "/srv/home/elvis"),
        ("remove_home", "/var/userarchive/elvis.tar.bz2"),
    ]
    commands = [s.command for s in plan.steps]
    assert commands[1] == (
        "sudo -u hdfs kerberos-run-command hdfs hdfs dfs -mv /user/elvis/project "
        "/wmf/data/archive/user/elvis/"
    )
    assert commands[2].endswith(
        "-chown -R hdfs:analytics-privatedata-users /wmf/data/archive/user/elvis"
    )
    assert commands[5] == (
        "sudo cumin 'C:profile::analytics::cluster::client or C:profile::hadoop::master' "
        "'rm -rf /srv/home/elvis'"
    )
    home = plan.steps[4]
    assert home.args == {"exclude": ["/user/elvis/project"]}
    assert home.expect == files.fingerprint("/user/elvis", ("/user/elvis/project",))
    script = plan.script()
    assert script.startswith("# Offboarding elvis") and commands[0] in script
    # issue 30: the launcher's commands and cumin's came one after another with no host
    launcher, cumin = script.split("# --- on cumin1001.eqiad.wmnet: ")
    assert "# --- on an-launcher1002.eqiad.wmnet: HDFS and Hive" in launcher
    assert all(c in launcher for c in commands[:5]) and commands[5] in cumin
    assert "sudo cumin" not in launcher
    assert plan_from_json(json.loads(json.dumps(plan.as_json()))) == plan


def test_a_home_archived_whole_lands_where_the_runbook_puts_it(scanned, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`hdfs dfs -mv /user/elvis /wmf/data/archive/user/` gives /wmf/data/archive/user/elvis;
    moving it into a directory made first gave .../elvis/elvis."""
    files, report = scanned
    plan = build_plan(
        report,
        [f"{WAREHOUSE}/elvis_scratch.db", "/user/elvis"],
        {},
        archive_dir="/wmf/data/archive/user",
        archive_owner="hdfs:analytics-privatedata-users",
        cumin_hosts="all",
        created_by="ana",
        created_at=NOW,
        fingerprint=lambda path, exclude: files.fingerprint(path, tuple(exclude)),
    )
    archive = [
        (
            s.action,
            s.target,
            s.command.removeprefix("sudo -u hdfs kerberos-run-command hdfs hdfs dfs "),
        )
        for s in plan.steps
        if s.action.startswith("archive")
    ]
    assert archive == [
        ("archive_move", "/user/elvis", "-mv /user/elvis /wmf/data/archive/user/"),
        (
            "archive_move",
            f"{WAREHOUSE}/elvis_scratch.db",
            f"-mv {WAREHOUSE}/elvis_scratch.db /wmf/data/archive/user/elvis/",
        ),
        (
            "archive_chown",
            "/wmf/data/archive/user/elvis",
            "-chown -R hdfs:analytics-privatedata-users /wmf/data/archive/user/elvis",
        ),
    ]
    assert not any(s.action == "remove_hdfs" for s in plan.steps)  # both archived whole
    assert plan_from_json(json.loads(json.dumps(plan.as_json()))) == plan
    data = plan.as_json()
    data["steps"][1]["args"]["destination"] = "/wmf/data/archive/user"  # not the home: refused
    with pytest.raises(BadInput, match="archives go to"):
        plan_from_json(data)

    # executed, the archive is where the printed commands put it
    from opsweek.offboard.execute import Executor, Journal

    done = Executor(plan, files, {}, None, Journal(tmp_path / "journal"), lambda message: None).run(
        dry_run=False
    )
    hdfs = Path(files.real("/"))
    assert done.stopped == "step 4: host stat1008 is not configured"  # no hosts given here
    assert (hdfs / "wmf/data/archive/user/elvis/project/part-0000.parquet").exists()
    assert (hdfs / "wmf/data/archive/user/elvis/elvis_scratch.db/old/part-0").exists()
    assert not (hdfs / "wmf/data/archive/user/elvis/elvis").exists()
    assert not (hdfs / "user/elvis").exists()


def test_hand_edited_plans_are_refused(scanned) -> None:  # type: ignore[no-untyped-def]
    files, report = scanned
    plan = build_plan(
        report,
        [],
        {},
        archive_dir="/wmf/data/archive/user",
        archive_owner="hdfs:hdfs",
        cumin_hosts="all",
        created_by="ana",
        created_at=NOW,
        fingerprint=lambda path, exclude: files.fingerprint(path, tuple(exclude)),
    )
    data = plan.as_json()
    for edit, message in [
        (
            lambda d: d["steps"][0].update(target="/user/hive/warehouse/team.db"),
            "refusing to touch",
        ),
        (lambda d: d["steps"][0].update(target="/"), "refusing to touch"),
        (lambda d: d["steps"][-1].update(target="/etc"), "refusing to remove /etc"),
        (lambda d: d["steps"].append({**d["steps"][0], "number": 99}), "numbered"),
        (lambda d: d.update(user="../x"), "refusing user name"),
        (lambda d: d["steps"][0].update(action="rm_rf"), "unknown action"),
        (lambda d: d.update(version=7), "unsupported plan version"),
        # the text shown is what runs: a command edited to say something else is refused
        (
            lambda d: d["steps"][0].update(command="sudo -u hdfs hdfs dfs -rm -r /user/bob"),
            "its command is not what the step runs",
        ),
        # a removal must carry what it expects to remove, or it could not be re-checked
        (lambda d: d["steps"][0].update(expect=""), "cannot be re-checked"),
        (lambda d: d.update(user="elvis\n"), "refusing user name"),
        (lambda d: d.pop("steps"), "not an opsweek offboarding plan"),
    ]:
        edited = json.loads(json.dumps(data))
        edit(edited)
        with pytest.raises(BadInput, match=message):
            plan_from_json(edited)


def test_a_plan_archives_and_removes_only_where_and_to_whom_the_settings_say(scanned) -> None:  # type: ignore[no-untyped-def]
    from opsweek.offboard.plan import check_against_settings

    files, report = scanned
    plan = build_plan(
        report,
        ["/user/elvis/project"],
        {},
        archive_dir="/wmf/data/archive/user",
        archive_owner="hdfs:analytics-privatedata-users",
        cumin_hosts="all",
        created_by="ana",
        created_at=NOW,
        fingerprint=lambda path, exclude: files.fingerprint(path, tuple(exclude)),
    )
    owner = "hdfs:analytics-privatedata-users"
    check_against_settings(plan, "/wmf/data/archive/user", owner, "all")
    with pytest.raises(BadInput, match=r"not offboard\.archive_dir"):
        check_against_settings(plan, "/wmf/data/archive/other", owner, "all")
    with pytest.raises(BadInput, match=r"not offboard\.archive_owner"):
        check_against_settings(plan, "/wmf/data/archive/user", "mallory:mallory", "all")
    # issue 29: a plan edited to remove the home directories on every host ('*') is refused,
    # though its command says so consistently (the plan's own check passes)
    data = json.loads(json.dumps(plan.as_json()))
    for step in data["steps"]:
        if step["action"] == "remove_home":
            step["args"]["cumin"] = "*"
            step["command"] = command_for("remove_home", step["target"], step["args"])
    edited = plan_from_json(data)
    assert any(s.action == "remove_home" for s in edited.steps)
    with pytest.raises(BadInput, match=r"on the hosts '\*', not offboard\.cumin_hosts"):
        check_against_settings(edited, "/wmf/data/archive/user", owner, "all")


def test_transfers_and_external_data_notes() -> None:
    from opsweek.offboard.scan import ScanReport

    report = ScanReport("elvis", NOW, WAREHOUSE)
    mine = TableFinding(
        TableInfo("elvis", "raw", "elvis", "EXTERNAL", "hdfs://c/wmf/data/raw/x"),
        "/wmf/data/raw/x",
        False,
    )
    report.databases = [
        DatabaseFinding("elvis", "hdfs://c/user/hive/warehouse/elvis.db", None, [mine])
    ]
    shared = TableInfo(
        "team", "shared", "elvis", "MANAGED", "hdfs://c/user/hive/warehouse/team.db/shared"
    )
    report.owned_elsewhere = [TableFinding(shared, f"{WAREHOUSE}/team.db/shared", True)]
    options = {
        "archive_dir": "/wmf/data/archive/user",
        "archive_owner": "hdfs:hdfs",
        "cumin_hosts": "all",
        "created_by": "ana",
        "created_at": NOW,
        "fingerprint": lambda path, exclude: "",
    }
    with pytest.raises(BadInput, match="own database"):
        build_plan(report, [], {"elvis.raw": "hpatel"}, **options)  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="not a table owned by elvis"):
        build_plan(report, [], {"team.other": "hpatel"}, **options)  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="cannot archive /wmf/data/raw/x"):
        build_plan(report, ["/wmf/data/raw/x"], {}, **options)  # type: ignore[arg-type]
    plan = build_plan(report, [], {"team.shared": "hpatel"}, **options)  # type: ignore[arg-type]
    assert [s.action for s in plan.steps] == ["transfer_owner", "drop_database"]
    # the statement is one shell word in single quotes: backquotes stay Hive's, not the shell's
    assert plan.steps[0].command == (
        "sudo -u hdfs kerberos-run-command hdfs hive -e "
        "'ALTER TABLE `team`.`shared` SET OWNER USER hpatel;'"
    )
    assert plan.steps[1].command == (
        "sudo -u hdfs kerberos-run-command hdfs hive -e 'DROP DATABASE `elvis` CASCADE;'"
    )
    assert any("keeps its data at hdfs://c/wmf/data/raw/x" in n for n in plan.notes)
    untransferred = build_plan(report, [], {}, **options)  # type: ignore[arg-type]
    assert any("--transfer team.shared=NEW_OWNER" in n for n in untransferred.notes)
