"""The two responsibilities side by side: an alert is a Dumps one when the dumps check made
it or when it comes from an Airflow instance configured as the Dumps' (`area = "dumps"`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from opsweek.adapters.airflow import AirflowInstance
from opsweek.alerts.areas import DUMPS, PIPELINES, area_of
from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import AIRFLOW
from opsweek.alerts.model import RawInput
from opsweek.alerts.sources.airflow_api import content
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.session import Store
from opsweek.errors import ConfigError
from opsweek.handoff.render import to_markdown


def test_an_alert_belongs_to_the_dumps_by_its_kind_or_its_airflow_instance() -> None:
    dumps = frozenset({"dumps"})
    assert area_of("dumps_job_failed", {}, dumps) == DUMPS
    assert area_of("airflow_task_failed", {"airflow_instance": "airflow-dumps"}, dumps) == DUMPS
    assert area_of("airflow_task_failed", {"airflow_instance": "airflow-analytics"}, dumps) == (
        PIPELINES
    )
    assert area_of("refine_failure", {}, dumps) == PIPELINES
    with pytest.raises(ConfigError, match="area"):
        AirflowInstance.from_entry({"name": "x", "url": "https://a", "area": "elsewhere"})


def test_today_and_the_handoff_show_both(store: Store, tmp_path: Path) -> None:
    config = tmp_path / "settings" / "opsweek.toml"
    config.parent.mkdir()
    config.write_text(
        '[[airflow.instances]]\nname = "dumps"\nurl = "https://airflow-dumps.example.org"\n'
        'token_env = "T"\narea = "dumps"\n'
    )
    ops = App(load_settings(config, env={}), store=store)
    at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    dumps_failure = content(
        "dumps",
        "https://airflow-dumps.example.org",
        {
            "dag_id": "mediawiki_content_dump",
            "task_id": "dump_enwiki",
            "dag_run_id": "r1",
            "state": "failed",
            "try_number": 1,
        },
    )
    pipelines_failure = content(
        "analytics",
        "https://airflow-analytics.example.org",
        {
            "dag_id": "edit_hourly",
            "task_id": "process_edit_hourly",
            "dag_run_id": "r1",
            "state": "failed",
            "try_number": 1,
        },
    )
    AlertChanges(store).ingest(
        [
            RawInput(dumps_failure, AIRFLOW, at, "airflow:dumps"),
            RawInput(pipelines_failure, AIRFLOW, at, "airflow:analytics"),
        ],
        at,
    )
    with ops.session() as session:
        view = ops.today(session, now=at)
        assert view.areas == {"pipelines": 1, "dumps": 1}
        report = ops.handoff(session, now=datetime(2026, 12, 2, tzinfo=UTC)).report(
            date(2026, 12, 1)
        )
    assert report.by_area() == {
        "pipelines": {"alerts": 1, "still_open": 1},
        "dumps": {"alerts": 1, "still_open": 1},
    }
    assert "Data pipelines: 1 alerts, 1 still open · Dumps: 1 alerts, 1 still open" in (
        to_markdown(report, ZoneInfo("UTC"))
    )
