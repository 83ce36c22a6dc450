"""Airflow failure to open page (issue 30): how long after a task fails in a real Airflow 3 its
alert is in opsweek's store (what the open pages' live updates show within a tenth of a
second), at the default `airflow.poll_seconds`, and what each poll costs the instance.

A real Airflow 3 (`airflow standalone`, from `.venv-airflow`, as the tests start it) runs five
DAGs whose one task fails half the time (tests/services/airflow_dags/opsweek_random.py); runs
are triggered at random moments, and `opsweek serve`'s scheduled jobs (`Server`, no web
workers) poll it. For each failed task instance: the time from its end in Airflow (its
`end_date`) to the moment its alert was first seen in the store, read every 0.1 s. Target:
p99 under 20 s. Requests per poll: what `PollRun.requests` counted.

    python benchmarks/airflow_poll.py [--minutes 6] [--runs 60]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from tests.services.airflow import PASSWORD, USER, airflow
from tests.services.common import free_port

from opsweek.app import App
from opsweek.config import load_settings
from opsweek.config.declared import SETTINGS_BY_NAME
from opsweek.db.models import Alert
from opsweek.server import Server

DAGS = [f"opsweek_random_{n}" for n in range(1, 6)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=6.0, help="how long runs are started")
    parser.add_argument("--runs", type=int, default=60, help="runs started over that time")
    args = parser.parse_args()
    poll_seconds = SETTINGS_BY_NAME["airflow.poll_seconds"].default
    with airflow() as server, tempfile.TemporaryDirectory() as data:
        config = Path(data) / "opsweek.toml"
        config.write_text(
            "[checks]\ninterval_minutes = 0\n"
            f'[[airflow.instances]]\nname = "bench"\nurl = "{server.url}"\nuser = "{USER}"\n'
            'password_env = "BENCH_AIRFLOW_PASSWORD"\n'
        )
        os.environ["BENCH_AIRFLOW_PASSWORD"] = PASSWORD
        ops = App(load_settings(config, env={"OPSWEEK_DATA_DIR": data}))
        requests: list[int] = []
        poll = ops.airflow.poll

        def counted_poll(*a: object, **k: object):  # type: ignore[no-untyped-def]
            run = poll(*a, **k)  # type: ignore[arg-type]
            requests.append(run.requests)
            return run

        ops.airflow.poll = counted_poll  # type: ignore[method-assign]
        for dag in DAGS:  # parsed and unpaused before the clock starts
            server.api("PATCH", f"/dags/{dag}", json={"is_paused": False})
        serving = Server(ops, "127.0.0.1", free_port(), workers=1)
        serving.start()
        seen: dict[tuple[str, str], datetime] = {}
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                with ops.store.session() as session:
                    rows = session.execute(
                        select(Alert.details).where(Alert.kind == "airflow_task_failed")
                    ).scalars()
                    moment = datetime.now(UTC)
                    for details in rows:
                        seen.setdefault((details["dag_id"], details["run_id"]), moment)
                time.sleep(0.1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        started: list[tuple[str, str]] = []
        gaps = sorted(random.uniform(0, args.minutes * 60) for _ in range(args.runs))
        began = time.monotonic()
        for at in gaps:
            time.sleep(max(0.0, at - (time.monotonic() - began)))
            dag = random.choice(DAGS)
            run = server.api("POST", f"/dags/{dag}/dagRuns", json={"logical_date": None})
            started.append((dag, str(run["dag_run_id"])))
        time.sleep(poll_seconds * 3 + 30)  # the last runs finish and are polled
        stop.set()
        serving.stop()
        delays = []
        for dag, run_id in started:
            found = server.api(
                "GET", f"/dags/{dag}/dagRuns/{run_id.replace('+', '%2B')}/taskInstances"
            )
            for ti in found["task_instances"]:
                if ti["state"] != "failed":
                    continue
                ended = datetime.fromisoformat(ti["end_date"].replace("Z", "+00:00"))
                shown = seen.get((dag, run_id))
                delays.append((shown - ended).total_seconds() if shown else float("inf"))
    delays.sort()
    missed = sum(d == float("inf") for d in delays)
    known = [d for d in delays if d != float("inf")]
    p99 = known[min(len(known) - 1, int(len(known) * 0.99))] if known else float("nan")
    print(
        f"Airflow 3 failure to opsweek's store, poll every {poll_seconds} s (default), "
        f"{len(started)} runs over {args.minutes:g} min, {len(delays)} failed"
    )
    print(
        f"  delay: median {statistics.median(known):.1f} s, p99 {p99:.1f} s, "
        f"max {known[-1]:.1f} s, never seen {missed}  "
        + ("OK" if p99 < 20 and not missed else "MISSED")
    )
    print(
        f"  requests per poll: {len(requests)} polls, median {statistics.median(requests):g}, "
        f"max {max(requests)} (first poll: {requests[0]})"
    )


if __name__ == "__main__":
    main()
