"""A run that fails once, with no retry, then succeeds when cleared (a marker file per run
tells the tries apart); named as a Druid load, and logging the Druid indexing task it "ran"
as a loading task's log does."""

import os
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, task

with DAG("opsweek_druid_load_once", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):

    @task(retries=0)
    def load_druid(**context: object) -> str:
        run = str(context["run_id"]).replace("/", "_").replace(":", "_")
        marker = Path(os.environ["FLAKY_MARKERS"]) / f"druid-{run}"
        print('Submitting indexation spec {"type": "index_hadoop", "dataSource": "opsweek_test"}')
        print("Druid indexation task: index_hadoop_opsweek_test_abcdefgh_2026-12-01T10:12:40.118Z")
        if not marker.exists():
            marker.write_text("failed once")
            raise RuntimeError("the Druid indexation task failed (on purpose)")
        return "ok"

    load_druid()
