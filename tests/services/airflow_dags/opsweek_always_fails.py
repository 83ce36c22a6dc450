"""A task that always fails, with no retry."""

from datetime import datetime

from airflow.sdk import DAG, task

with DAG("opsweek_always_fails", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):

    @task(retries=0)
    def broken() -> None:
        raise RuntimeError("this task always fails")

    broken()
