"""An example Airflow DAG that runs opsweek's daily checks with the team's own Airflow.

Copy it into the DAGs folder of an instance where `opsweek` is installed and configured
(OPSWEEK_CONFIG pointing at the team's opsweek.toml). Each check sends what it finds to the
opsweek inbox; a check that *finds* something exits 1, which is not a failure of the task, so
only exit 2 (bad input, or a check that could not run) fails it.
"""

from __future__ import annotations

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

# exit 1 means "found something": reported through the opsweek inbox, not a task failure
FOUND_IS_FINE = "; rc=$?; [ $rc -le 1 ] || exit $rc"

with DAG(
    dag_id="opsweek_daily_checks",
    schedule="0 7 * * *",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 1, "retry_delay": pendulum.duration(minutes=10)},
    tags=["opsweek", "ops-week"],
) as dag:
    new_wikis = BashOperator(
        task_id="new_wikis",
        bash_command="opsweek check new-wikis --date {{ ds }}" + FOUND_IS_FINE,
    )
    mw_history = BashOperator(
        task_id="mw_history",
        bash_command="opsweek check mw-history" + FOUND_IS_FINE,
    )
    canary = BashOperator(
        task_id="canary_schemas",
        bash_command=(
            "opsweek check canary --schemas /srv/schemas/event/secondary/jsonschema "
            "--streams /etc/opsweek/streams.yaml" + FOUND_IS_FINE
        ),
    )
    webrequest_partitions = BashOperator(
        task_id="webrequest_partitions",
        bash_command="opsweek check partitions wmf.webrequest" + FOUND_IS_FINE,
    )
