"""The Phabricator tracker against a local HTTP server answering recorded Conduit responses."""

from __future__ import annotations

import json

import pytest

from opsweek.adapters.phabricator import PhabricatorTracker
from opsweek.errors import Unavailable
from tests.conftest import FIXTURES
from tests.services.common import free_port
from tests.services.http_stub import Reply, Request, stub_server

COLUMN = "PHID-PCOL-opsweekcolumnxxxxxxx"


def recorded(name: str) -> dict:
    return json.loads((FIXTURES / "conduit" / f"{name}.json").read_text())


def search(request: Request) -> Reply:
    params = json.loads(request.form["params"])
    page = "maniphest.search.page2" if params.get("after") == "341234" else "maniphest.search"
    return Reply(recorded(page))


def test_ops_tasks_follow_the_cursor_name_assignees_and_drop_closed_tasks() -> None:
    routes = {"maniphest.search": search, "user.search": lambda r: Reply(recorded("user.search"))}
    with stub_server(routes) as stub:
        tracker = PhabricatorTracker(stub.url, "api-secret", COLUMN)
        tasks = tracker.ops_tasks()
        first = json.loads(stub.called("maniphest.search")[0].form["params"])
        users = json.loads(stub.called("user.search")[0].form["params"])

    assert first["__conduit__"] == {"token": "api-secret"}
    assert first["constraints"] == {"columnPHIDs": [COLUMN]}
    assert len(stub.called("maniphest.search")) == 2  # followed the cursor
    assert sorted(users["constraints"]["phids"]) == [
        "PHID-USER-gsatoxxxxxxxxxxxxxxx",
        "PHID-USER-hpatelxxxxxxxxxxxxxx",
    ]
    by_ref = {t.ref: t for t in tasks}
    assert sorted(by_ref) == ["T341234", "T358001", "T360100"]  # T355010 is closed
    assert by_ref["T358001"].assignee == "gsato"
    assert by_ref["T358001"].handoff_action == "hand over"
    assert by_ref["T341234"].assignee == "hpatel"
    assert by_ref["T341234"].handoff_action == "unassign"
    assert by_ref["T360100"].assignee is None
    assert by_ref["T360100"].handoff_action == "unassigned"
    assert by_ref["T358001"].url == f"{stub.url}/T358001"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply({"error": "boom"}, 500), "HTTP 500"),
        (Reply({}, 429, {"Retry-After": "30"}), "rate limited, retry after 30 s"),
        (
            Reply({"result": None, "error_code": "ERR-INVALID-AUTH", "error_info": "bad token"}),
            "ERR-INVALID-AUTH: bad token",
        ),
        (Reply({"result": {}}, 200, delay=1.5), "no answer within 0.5 s"),
    ],
)
def test_failures_become_one_line(reply: Reply, message: str) -> None:
    with stub_server({"maniphest.search": lambda r: reply}) as stub:
        tracker = PhabricatorTracker(stub.url, "api-x", COLUMN, timeout=0.5)
        with pytest.raises(Unavailable, match=message.replace(".", r"\.")):
            tracker.ops_tasks()


def test_an_unreachable_tracker_is_unavailable() -> None:
    tracker = PhabricatorTracker(f"http://127.0.0.1:{free_port()}", "api-x", COLUMN, timeout=1)
    with pytest.raises(Unavailable, match=r"Phabricator maniphest\.search"):
        tracker.ops_tasks()
