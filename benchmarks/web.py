"""Web pages benchmark (issue 5).

With 100,000 alerts and 1,000,000 SAL entries in the SQLite store, `opsweek serve` in its own
process, and wrk (Debian package `wrk`) holding 50 concurrent connections on loopback for each
page in turn: Today, Inbox, one Alert, and a SAL search; with one and with two worker
processes; then Today and Inbox while another process logs to the SAL every second; then each
page rendered anew every time, one connection. Prints requests/s, p50 and p99.

Target: p99 < 100 ms for each page at 50 concurrent clients.

    python benchmarks/web.py [--alerts 100000] [--sal 1000000] [--seconds 10]
                             [--connections 50] [--workers 1 2] [--data DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).parent))
from ingest import free_port, wait_ready

from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import Alert
from opsweek.db.session import open_store
from opsweek.demo import seed
from opsweek.rotation.views import RotationConfig
from opsweek.sal.log import SalLog
from sal import populate

KINDS = [
    "airflow_task_failed",
    "refine_failure",
    "systemd_timer_failed",
    "alertmanager",
    "canary_failure",
    "data_loss",
    "refine_monitor",
    "airflow_sla_miss",
]


def add_alerts(store, count: int, now: datetime) -> int:  # type: ignore[no-untyped-def]
    """``count`` alerts over a year: 1 % firing, 2 % acknowledged, the rest resolved."""
    rng = random.Random(5)
    rows = []
    for number in range(count):
        first = now - timedelta(minutes=rng.randrange(0, 525_600))
        draw = rng.random()
        status = "firing" if draw < 0.01 else "acknowledged" if draw < 0.03 else "resolved"
        kind = rng.choice(KINDS)
        rows.append(
            {
                "fingerprint": f"bench{number:08}",
                "kind": kind,
                "source": "email",
                "title": f"{kind} bench {number}: refine_event event.change_{number % 97}",
                "severity": rng.choice(["error", "warning", "info"]),
                "status": status,
                "group_key": f"g{number % 500}",
                "first_seen": first,
                "last_seen": first + timedelta(minutes=rng.randrange(0, 600)),
                "count": rng.randrange(1, 5),
                "fire_count": 1,
                "flapping": False,
                "flap_history": [],
                "details": {"job": f"refine_event_{number % 97}", "dag_id": f"dag_{number % 50}"},
                "acked_by": "ana" if status != "firing" else None,
                "acked_at": first + timedelta(minutes=15) if status != "firing" else None,
                "resolved_by": "ana" if status == "resolved" else None,
                "resolved_at": first + timedelta(hours=2) if status == "resolved" else None,
                "resolution_note": "reran the hour" if status == "resolved" else None,
                "updated_at": now,
            }
        )
    with store.engine.begin() as connection:
        for start in range(0, len(rows), 10_000):
            connection.execute(insert(Alert), rows[start : start + 10_000])
    return len(rows)


def wrk(url: str, seconds: int, connections: int) -> tuple[float, float, float]:
    """requests/s, p50 ms, p99 ms."""
    done = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            raise RuntimeError(f"no {label} in wrk output:\n{out}")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses from {url}")
    return rate, ms("50%"), ms("99%")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--sal", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="web.workers values to measure (default: 1 and 2)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        help="keep the store in this directory and reuse it when run again (saves the setup)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian package wrk)")
        return 2
    tmp = args.data or Path(tempfile.mkdtemp(prefix="opsweek-bench-web-"))
    data = tmp / "data"
    reuse = (data / "ready").exists()
    env = {**os.environ, "OPSWEEK_DATA_DIR": str(data), "OPSWEEK_CHECKS_INTERVAL_MINUTES": "0"}
    settings = load_settings(env=env)
    store = open_store(settings.database_url)
    now = datetime.now(UTC)
    print(
        f"web benchmark: {args.alerts:,} alerts, {args.sal:,} SAL entries, "
        f"{args.connections} connections, {args.seconds} s per page"
    )
    began = time.perf_counter()
    if reuse:
        print(f"  reusing the store in {data}")
    else:
        populate(store, args.sal, random.Random(11), now)  # explicit ids from 1: first
        with store.writing() as session:
            seed(
                AlertChanges(store),
                session,
                RotationConfig.from_settings(settings.rotation),
                now,
                duties=App(settings).duty_book,
            )
        add_alerts(store, args.alerts, now)
        (data / "ready").touch()
    store.close()
    print(f"  store ready in {time.perf_counter() - began:.0f} s")
    pages = {
        "Today": "/",
        "Inbox": "/inbox",
        "Alert": "/alerts/50000",
        "SAL search": "/sal?q=refine_event",
    }
    failed = False
    try:
        for workers in args.workers:
            print(f"  opsweek serve --workers {workers}, {args.connections} connections:")
            with serving(env, workers) as base:
                for name, path in pages.items():
                    failed |= not measure(name, base, path, args.seconds, args.connections)
        workers = max(args.workers)
        print(
            f"  --workers {workers}, {args.connections} connections, while another process "
            "logs a SAL entry every second (every page rendered again each second):"
        )
        with serving(env, workers) as base, writing_every_second(settings):
            for name in ("Today", "Inbox"):
                failed |= not measure(name, base, pages[name], args.seconds, args.connections)
        print("  one page at a time, never reused (web.page_cache_seconds = 0), 1 connection:")
        with serving(env | {"OPSWEEK_WEB_PAGE_CACHE_SECONDS": "0"}, 1) as base:
            for name, path in pages.items():
                measure(name, base, path, args.seconds, 1, target=False)
    finally:
        if args.data is None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


@contextmanager
def serving(env: dict[str, str], workers: int) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "opsweek", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/healthz", server, "opsweek serve")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def writing_every_second(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """A SAL entry a second from this process: a commit the server only learns of from the
    store, like `opsweek sal log` or the IRC bot."""
    stop = threading.Event()

    def write() -> None:
        store = open_store(settings.database_url)
        number = 0
        while not stop.wait(1.0):
            number += 1
            with store.session() as session:
                SalLog(session).append("bench", f"reran refine_event hour {number}")
        store.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        yield
    finally:
        stop.set()
        writer.join()


def measure(
    name: str, base: str, path: str, seconds: int, connections: int, target: bool = True
) -> bool:
    wrk(base + path, 2, min(5, connections))  # warm up
    rate, p50, p99 = wrk(base + path, seconds, connections)
    status = "OK" if p99 < 100 else "MISSED"
    verdict = f" - target p99 < 100 ms: {status}" if target else ""
    print(
        f"    {name:<10} {path:<22} {rate:7.0f} req/s  p50 {p50:7.1f} ms  "
        f"p99 {p99:7.1f} ms{verdict}"
    )
    return status == "OK" or not target


if __name__ == "__main__":
    raise SystemExit(main())
