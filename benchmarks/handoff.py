"""The Handoff page of a week of 10,000 alerts (issue 29): how long it takes to render anew,
which it is after each commit (the page cache keeps it only while nothing changes).

The demo's store, plus ``--alerts`` alerts spread over the last six days (80 % resolved, 10 %
acknowledged, 10 % firing), and the page rendered ``--runs`` times with the page cache off,
in process (FastAPI's test client). Prints the median and the slowest.

    python benchmarks/handoff.py [--alerts 10000] [--runs 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import Alert
from opsweek.db.session import open_store
from opsweek.demo import seed

KINDS = ["airflow_task_failed", "refine_failure", "systemd_timer_failed", "alertmanager"]


def fill(ops: App, count: int, now: datetime) -> None:
    with ops.store.writing() as session:
        seed(AlertChanges(ops.store), session, ops.rotation_config, now, duties=ops.duty_book)
    rng = random.Random(1)
    rows = []
    for number in range(count):
        first = now - timedelta(minutes=rng.randrange(0, 6 * 24 * 60))
        status = rng.choice(["resolved"] * 8 + ["firing", "acknowledged"])
        kind = rng.choice(KINDS)
        rows.append(
            {
                "fingerprint": f"bench{number}",
                "kind": kind,
                "source": "email",
                "title": f"{kind} {number}: refine_event event.t{number % 97}",
                "severity": "error",
                "status": status,
                "group_key": f"g{number % 300}",
                "first_seen": first,
                "last_seen": first + timedelta(minutes=5),
                "count": 1,
                "fire_count": 1,
                "flapping": False,
                "details": {"job": "refine_event", "table": f"event.t{number % 97}"},
                "updated_at": first,
                "acked_by": None if status == "firing" else "ann",
                "acked_at": None if status == "firing" else first + timedelta(minutes=3),
                "resolved_by": "ann" if status == "resolved" else None,
                "resolved_at": first + timedelta(hours=1) if status == "resolved" else None,
                "resolution_note": "reran" if status == "resolved" else None,
            }
        )
    with ops.store.session() as session:
        session.execute(insert(Alert), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    from fastapi.testclient import TestClient

    from opsweek.web import create_app

    with tempfile.TemporaryDirectory(prefix="opsweek-handoff-") as folder:
        env = {"OPSWEEK_DATA_DIR": folder, "OPSWEEK_WEB_PAGE_CACHE_SECONDS": "0"}
        ops = App(load_settings(env=env), store=open_store(f"sqlite:///{folder}/h.db"))
        fill(ops, args.alerts, datetime.now(UTC))
        times = []
        with TestClient(create_app(ops)) as client:
            for _ in range(args.runs + 1):
                began = time.perf_counter()
                assert client.get("/handoff").status_code == 200
                times.append((time.perf_counter() - began) * 1000)
        times = times[1:]  # the first warms the templates
        print(
            f"/handoff, a week of {args.alerts:,} alerts, rendered anew ({args.runs} runs): "
            f"median {statistics.median(times):.0f} ms, slowest {max(times):.0f} ms"
        )


if __name__ == "__main__":
    main()
