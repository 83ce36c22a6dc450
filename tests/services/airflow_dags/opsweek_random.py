"""Five DAGs whose one task fails at random (half the time), for benchmarks/airflow_poll.py:
failures at times nobody chose, as production has them."""

import random
import time
from datetime import datetime

from airflow.sdk import DAG, task

for number in range(1, 6):
    with DAG(
        f"opsweek_random_{number}",
        start_date=datetime(2026, 1, 1),
        schedule=None,
        catchup=False,
        max_active_runs=4,
    ):

        @task(retries=0)
        def work() -> None:
            time.sleep(random.uniform(0, 3))
            if random.random() < 0.5:
                raise RuntimeError("failed at random")

        work()
