"""The dashboards the runbook asks to monitor: a daily duty with a step per dashboard, ticked
fine or with a note (the handoff lists the notes), and `opsweek dashboards` with the current
value of each one's Prometheus query (a local HTTP server answering as Prometheus's API)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.session import Store
from opsweek.errors import ConfigError
from opsweek.handoff.render import to_markdown
from tests.conftest import Cli
from tests.services.http_stub import Reply, Request, stub_server

BOARDS = """
[[dashboards]]
name = "HDFS capacity"
url = "https://grafana.example.org/d/000000585/hadoop"
look_for = "free space below 15%"
prometheus = 'hadoop_namenode_capacity_remaining / hadoop_namenode_capacity_total'

[[dashboards]]
name = "Refine lag"
url = "https://grafana.example.org/d/refine/refine"
"""


def config(tmp_path: Path, text: str = BOARDS, prometheus: str = "") -> Path:
    """A settings file, away from the test's working directory (where opsweek looks too)."""
    path = tmp_path / "settings" / "opsweek.toml"
    path.parent.mkdir(exist_ok=True)
    extra = f'[prometheus]\nurl = "{prometheus}"\n' if prometheus else ""
    path.write_text(extra + text)
    return path


def test_each_dashboard_is_a_step_of_the_daily_duty(tmp_path: Path) -> None:
    ops = App(load_settings(config(tmp_path), env={}), store=None)  # type: ignore[arg-type]
    duty = ops.duty_book.get("dashboards")
    assert duty is not None and duty.cron == "0 9 * * mon-fri"
    assert [(s.text, s.command, s.lang) for s in duty.steps] == [
        (
            "Look at HDFS capacity: free space below 15%",
            "https://grafana.example.org/d/000000585/hadoop",
            "url",
        ),
        ("Look at Refine lag", "https://grafana.example.org/d/refine/refine", "url"),
    ]
    plain = App(load_settings(env={}), store=None)  # type: ignore[arg-type]
    assert plain.duty_book.get("dashboards") is None  # none configured: no duty


def test_bad_dashboards_are_one_clear_error(tmp_path: Path) -> None:
    for text, error in (
        ('[[dashboards]]\nname = "x"\nurl = "javascript:alert(1)"\n', "http"),
        ('[[dashboards]]\nname = "x"\nurl = "https://a"\ncolour = 1\n', "unknown"),
        (BOARDS + '[[dashboards]]\nname = "Refine lag"\nurl = "https://b"\n', "twice"),
    ):
        with pytest.raises(ConfigError, match=error):
            _ = App(load_settings(config(tmp_path, text), env={}), store=None).dashboards  # type: ignore[arg-type]


def test_a_note_on_a_dashboard_reaches_the_handoff(store: Store, tmp_path: Path) -> None:
    ops = App(load_settings(config(tmp_path), env={}), store=store)
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    with ops.session() as session:
        duties = ops.duties(session, now=datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
        week = duties.list(datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC))
        board = next(i for i in week if i.duty_key == "dashboards")
        duties.tick(str(board.id), 1, "free space at 12% on the namenode")
    with ops.session() as session:
        report = ops.handoff(session, now=now).report(date(2026, 11, 20))
        markdown = to_markdown(report, ZoneInfo("UTC"))
    assert "Noted while doing them:" in markdown
    assert "Look at HDFS capacity: free space below 15%" in markdown
    assert "free space at 12% on the namenode" in markdown


def test_dashboards_show_their_prometheus_values(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def query(request: Request) -> Reply:
        expression = request.form.get("query", "")
        asked.append(expression)
        if "capacity" not in expression:
            return Reply({"status": "error", "errorType": "bad_data", "error": "parse error"}, 400)
        return Reply(
            {
                "status": "success",
                "data": {
                    "resultType": "vector",
                    "result": [
                        {"metric": {"cluster": "analytics"}, "value": [1764666000.0, "0.1834"]}
                    ],
                },
            }
        )

    with stub_server({"query": query}) as stub:
        monkeypatch.setenv("OPSWEEK_CONFIG", str(config(tmp_path, prometheus=stub.url)))
        monkeypatch.setenv("OPSWEEK_DATA_DIR", str(tmp_path))
        shown = cli("dashboards", "--json")
    assert shown.exit_code == 0
    boards = json.loads(shown.stdout)["dashboards"]
    assert boards[0]["values"] == [{"series": '{cluster="analytics"}', "value": 0.1834}]
    assert boards[1]["values"] is None  # no query: the link only
    assert asked == ["hadoop_namenode_capacity_remaining / hadoop_namenode_capacity_total"]
