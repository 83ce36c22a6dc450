"""A task that fails its first try and succeeds on its retry (a marker file per run tells the
tries apart); the retry waits long enough for a poll to see the task up for retry."""

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG, task

with DAG("opsweek_flaky", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):

    @task(retries=1, retry_delay=timedelta(seconds=int(os.environ.get("FLAKY_RETRY_S", "20"))))
    def sometimes(**context: object) -> str:
        marker = Path(os.environ["FLAKY_MARKERS"]) / str(context["run_id"]).replace("/", "_")
        if not marker.exists():
            marker.write_text("failed once")
            raise RuntimeError("the first try fails on purpose")
        return "ok"

    sometimes()
