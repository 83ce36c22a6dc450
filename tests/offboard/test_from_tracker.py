"""Offboarding starts itself from the SRE offboarding task in the tracker's ops-week column,
once per task; `offboard check USER --post` puts the report on that task (through Conduit, to a
local HTTP server answering as Phabricator)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from opsweek.adapters.tracker import Task
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import DutyInstance
from opsweek.db.session import Store
from opsweek.errors import ConfigError
from opsweek.offboard.from_tracker import compile_pattern, departures
from tests.conftest import Cli
from tests.services.http_stub import Reply, Request, stub_server

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
DEFAULT = load_settings(env={}).offboard.task_pattern


def task(ref: str, title: str) -> Task:
    return Task(ref, title, "open", "Open", None, f"https://phabricator.example.org/{ref}", NOW)


class Column:
    name = "fake"

    def __init__(self, tasks: list[Task]) -> None:
        self.tasks = tasks

    def ops_tasks(self) -> list[Task]:
        return self.tasks


def test_the_default_pattern_finds_the_user_of_an_offboarding_task() -> None:
    pattern = compile_pattern(DEFAULT)
    assert pattern is not None
    tasks = [
        task("T1", "Offboard elvis: remove home directories and Hive databases"),
        task("T2", "Offboarding - priscilla"),
        task("T3", "Offboard Elvis Presley"),  # no login in it: not guessed
        task("T4", "Rerun webrequest for 2026-11-30"),
    ]
    assert [(u, t.ref) for u, t in departures(tasks, pattern)] == [
        ("elvis", "T1"),
        ("priscilla", "T2"),
    ]
    assert compile_pattern("") is None
    with pytest.raises(ConfigError, match="user"):
        compile_pattern(r"offboard (\w+)")
    with pytest.raises(ConfigError, match="regular expression"):
        compile_pattern("offboard (")


def offboardings(store: Store) -> list[dict]:
    with store.session() as session:
        rows = session.scalars(select(DutyInstance).where(DutyInstance.duty_key == "offboarding"))
        return [{"status": i.state, **i.detail} for i in rows]


def test_an_offboarding_task_opens_the_duty_once(store: Store) -> None:
    column = Column([task("T1", "Offboard elvis: remove home directories")])
    ops = App(load_settings(env={}), store=store, tracker=column)
    for _ in range(2):
        with ops.session() as session:
            ops.read_tracker_and_chat(session, NOW)
    (opened,) = offboardings(store)
    assert (opened["user"], opened["task"], opened["status"]) == ("elvis", "T1", "due")
    with ops.session() as session:
        ops.duties(session, now=NOW).done(str(session.scalars(select(DutyInstance.id)).first()))
    with ops.session() as session:  # done: the task still in the column opens nothing again
        ops.read_tracker_and_chat(session, NOW)
    assert [o["status"] for o in offboardings(store)] == ["done"]


def test_check_post_comments_the_report_on_the_task(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edits: list[dict] = []

    def edit(request: Request) -> Reply:
        edits.append(json.loads(request.form["params"]))
        return Reply({"result": {"object": {"id": 341234}}, "error_code": None})

    with stub_server({"maniphest.edit": edit}) as stub:
        monkeypatch.setenv("OPSWEEK_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("OPSWEEK_FILES_ROOT", (tmp_path / "hdfs").as_uri())
        monkeypatch.setenv("OPSWEEK_TRACKER_KIND", "phabricator")
        monkeypatch.setenv("OPSWEEK_TRACKER_URL", stub.url)
        monkeypatch.setenv("OPSWEEK_TRACKER_TOKEN", "api-secret")
        (tmp_path / "hdfs" / "user" / "elvis").mkdir(parents=True)
        no_task = cli("offboard", "check", "elvis", "--post")
        assert no_task.exit_code == 2 and "--task" in no_task.stderr
        posted = cli("offboard", "check", "elvis", "--post", "--task", "T341234")
        assert posted.exit_code != 0 and "posted to T341234" in posted.stderr  # leftovers
    (comment,) = edits
    assert comment["objectIdentifier"] == 341234
    (transaction,) = comment["transactions"]
    assert transaction["type"] == "comment" and "/user/elvis" in transaction["value"]
    sal = cli.json("sal", "list")["entries"]
    assert any(re.search(r"posted elvis's offboarding check to T341234", e["message"]) for e in sal)
