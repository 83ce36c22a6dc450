"""The handoff's changes to the outgoing person's tasks: unassign what was not started, hand
over what is in progress; made through Conduit's maniphest.edit (a local HTTP server answering
as Phabricator, from recorded responses), only for tasks unchanged since they were read, each
in the SAL."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from typing import Any

from opsweek.adapters.phabricator import PhabricatorTracker
from opsweek.adapters.tracker import Task
from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.session import Store
from opsweek.demo.seed import seed
from opsweek.handoff.task_changes import plan
from opsweek.sal.log import SalFilter, SalLog
from tests.conftest import FIXTURES
from tests.services.http_stub import Reply, Request, stub_server

AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def task(ref: str, status: str, assignee: str | None) -> Task:
    return Task(ref, f"task {ref}", status, status, assignee, f"https://phab/{ref}", AT)


def test_only_the_outgoing_persons_tasks_change() -> None:
    tasks = [
        task("T1", "open", "ana"),
        task("T2", "progress", "ana"),
        task("T3", "open", "bob"),  # someone else's: theirs to hand off
        task("T4", "open", None),
    ]
    changes = {c.ref: c for c in plan(tasks, "ana", "bob")}
    assert set(changes) == {"T1", "T2"}
    assert (changes["T1"].action, changes["T1"].owner) == ("unassign", None)
    assert (changes["T2"].action, changes["T2"].owner, changes["T2"].reassign) == (
        "hand over",
        "bob",
        True,
    )
    alone = plan(tasks, "ana", None)[1]  # nobody next: a comment, the owner kept
    assert (alone.reassign, alone.describe()) == (False, "T2: comment only")
    assert plan(tasks, None, "bob") == []


def recorded(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "conduit" / f"{name}.json").read_text())


class Phabricator:
    """Answers as Phabricator for two people's tasks, from the recorded shapes."""

    def __init__(self, outgoing: str, incoming: str) -> None:
        self.users = {
            outgoing: f"PHID-USER-{outgoing:x<20}",
            incoming: f"PHID-USER-{incoming:x<20}",
        }
        template = recorded("maniphest.search")["result"]["data"][0]
        self.tasks = {}
        for number, status, owner in ((501, "open", outgoing), (502, "progress", outgoing)):
            row = copy.deepcopy(template)
            row["id"] = number
            row["fields"].update(
                name=f"task {number}",
                ownerPHID=self.users[owner],
                status={"value": status, "name": status, "color": None},
            )
            self.tasks[number] = row
        self.edits: list[dict[str, Any]] = []

    def search(self, request: Request) -> Reply:
        params = json.loads(request.form["params"])
        ids = params.get("constraints", {}).get("ids")
        rows = [r for n, r in self.tasks.items() if ids is None or n in ids]
        return Reply({"result": {"data": rows, "cursor": {"after": None}}, "error_code": None})

    def user_search(self, request: Request) -> Reply:
        constraints = json.loads(request.form["params"])["constraints"]
        wanted = constraints.get("usernames") or []
        phids = constraints.get("phids") or []
        template = recorded("user.search")["result"]["data"][0]
        rows = []
        for name, phid in self.users.items():
            if name in wanted or phid in phids:
                row = copy.deepcopy(template)
                row["phid"], row["fields"]["username"] = phid, name
                rows.append(row)
        return Reply({"result": {"data": rows, "cursor": {"after": None}}, "error_code": None})

    def edit(self, request: Request) -> Reply:
        params = json.loads(request.form["params"])
        self.edits.append(params)
        number = params["objectIdentifier"]
        self.tasks[number]["fields"]["dateModified"] += 60  # Phabricator stamps each edit
        return Reply(
            {
                "result": {
                    "object": {"id": number, "phid": self.tasks[number]["phid"]},
                    "transactions": [{"phid": "PHID-XACT-TASK-x"}],
                },
                "error_code": None,
                "error_info": None,
            }
        )

    def routes(self) -> dict[str, Any]:
        return {
            "maniphest.search": self.search,
            "user.search": self.user_search,
            "maniphest.edit": self.edit,
        }


def test_the_handoff_unassigns_and_hands_over_through_conduit(store: Store) -> None:
    plain = App(load_settings(env={}), store=store)
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    with store.writing() as session:
        seed(AlertChanges(store), session, plain.rotation_config, now, duties=plain.duty_book)
    with store.session() as session:
        inputs = plain.handoff(session, now=now).inputs(date(2026, 11, 20))
    outgoing, incoming = inputs.from_person, inputs.to_person
    assert outgoing and incoming
    phab = Phabricator(outgoing, incoming)
    with stub_server(phab.routes()) as stub:
        tracker = PhabricatorTracker(stub.url, "api-secret", "PHID-PCOL-opsweek")
        ops = App(load_settings(env={}), store=store, tracker=tracker)
        with ops.session() as session:
            service = ops.handoff(session, actor="tester", now=now)
            changes = service.task_changes(date(2026, 11, 20))
            assert [c.describe() for c in changes] == [
                "T501: unassign",
                f"T502: assign to {incoming}",
            ]
            phab.tasks[502]["fields"]["dateModified"] += 1  # someone edits T502 meanwhile
            done = service.apply_task_changes(changes)
        assert done[0][1] == "applied"
        assert done[1][1].startswith("left alone: changed since it was read")
        (edit,) = phab.edits  # T502 was left alone
        assert edit["objectIdentifier"] == 501
        assert edit["transactions"][1] == {"type": "owner", "value": None}
        assert "not started" in edit["transactions"][0]["value"]
        # read again, T502 is handed over
        with ops.session() as session:
            service = ops.handoff(session, actor="tester", now=now)
            again = [c for c in service.task_changes(date(2026, 11, 20)) if c.ref == "T502"]
            assert service.apply_task_changes(again)[0][1] == "applied"
        assert phab.edits[-1]["transactions"][1] == {
            "type": "owner",
            "value": phab.users[incoming],
        }
    with store.session() as session:
        messages = [e.message for e in SalLog(session).list(SalFilter(limit=50))]
    assert "handoff: T501: unassign" in messages
    assert f"handoff: T502: assign to {incoming}" in messages


def test_the_handoff_page_shows_the_changes_then_makes_them(store: Store) -> None:
    from fastapi.testclient import TestClient

    from opsweek.passwords import set_password
    from opsweek.rotation.people import PersonRecord
    from opsweek.rotation.team import Team
    from opsweek.web import create_app
    from tests.web.test_login_forms import PASSWORD, csrf_of

    plain = App(load_settings(env={}), store=store)
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    with store.writing() as session:
        seed(AlertChanges(store), session, plain.rotation_config, now, duties=plain.duty_book)
        Team(session).add(PersonRecord("webuser", "Web User"))
        set_password(session, "webuser", PASSWORD)
    with store.session() as session:
        inputs = plain.handoff(session, now=now).inputs(date(2026, 11, 20))
    phab = Phabricator(str(inputs.from_person), str(inputs.to_person))
    with stub_server(phab.routes()) as stub:
        tracker = PhabricatorTracker(stub.url, "api-secret", "PHID-PCOL-opsweek")
        ops = App(load_settings(env={}), store=store, tracker=tracker)
        with TestClient(create_app(ops)) as client:
            page = client.get("/handoff/tasks?week=2026-11-20").text
            assert "T501: unassign" in page and "Log in" in page
            client.post(
                "/login",
                data={"username": "webuser", "password": PASSWORD, "csrf": csrf_of(client)},
                follow_redirects=False,
            )
            csrf = csrf_of(client, "/handoff/tasks?week=2026-11-20")
            done = client.post(
                "/handoff/tasks", data={"csrf": csrf, "week": "2026-11-20"}, follow_redirects=False
            )
            assert done.status_code == 303
    assert [e["objectIdentifier"] for e in phab.edits] == [501, 502]
    with store.session() as session:
        entries = SalLog(session).list(SalFilter(limit=50))
        assert ("webuser", "handoff: T501: unassign") in [(e.actor, e.message) for e in entries]
