"""`opsweek onboard check USER`: the HDFS home and its owner through the files root, the
groups where this machine knows the user, and the Kerberos principal said to be unchecked."""

from __future__ import annotations

import getpass
import grp
import json
import os
from pathlib import Path

import pytest

from opsweek.onboard.check import DONE, MISSING, UNKNOWN, check, local_groups
from tests.conftest import Cli


def states(steps: list) -> dict[str, str]:
    return {s.key: s.state for s in steps}


def test_each_step_says_what_opsweek_sees() -> None:
    owners = {"/user/nadia": ("nadia", "nadia"), "/user/omar": ("hdfs", "hadoop")}
    groups = {"nadia": {"analytics-privatedata-users", "wikidev"}}
    wanted = ["analytics-privatedata-users", "analytics-search-users"]
    nadia = check("nadia", owners.get, groups.get, wanted)
    assert states(nadia) == {
        "hdfs-home": DONE,
        "group:analytics-privatedata-users": DONE,
        "group:analytics-search-users": MISSING,
        "kerberos": UNKNOWN,
    }
    omar = {s.key: s for s in check("omar", owners.get, groups.get, wanted)}
    assert omar["hdfs-home"].state == MISSING and "owned by hdfs" in omar["hdfs-home"].detail
    assert omar["group:analytics-privatedata-users"].state == UNKNOWN  # not known here
    assert states(check("zoe", owners.get, groups.get, []))["hdfs-home"] == MISSING


def test_local_groups_are_this_machines() -> None:
    me = getpass.getuser()
    assert grp.getgrgid(os.getgid()).gr_name in (local_groups(me) or set())
    assert local_groups("no-such-user-here") is None


def test_onboard_check_from_the_cli(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "hdfs"
    me = getpass.getuser()
    (root / "user" / me).mkdir(parents=True)
    monkeypatch.setenv("OPSWEEK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OPSWEEK_FILES_ROOT", root.as_uri())
    mine = grp.getgrgid(os.getgid()).gr_name
    ok = cli("onboard", "check", me, "--group", mine, "--json")
    assert ok.exit_code == 0, ok.stdout
    assert {s["key"]: s["state"] for s in json.loads(ok.stdout)["steps"]} == {
        "hdfs-home": "done",
        f"group:{mine}": "done",
        "kerberos": "unknown",
    }
    assert cli("onboard", "check", "nadia").exit_code == 1  # no home yet
    assert cli("onboard", "check", "Bad User").exit_code == 2
