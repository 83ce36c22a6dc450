"""Intake benchmark.

1. 100,000 alerts through the Alertmanager webhook path: `opsweek serve` in its own process,
   HTTP POSTs of 10 alerts each (20 % of the alerts repeat an earlier one), SQLite store.
   Prints alerts/s and the p50/p99 latency of a webhook request. wrk keeps --concurrency
   webhooks in flight (16: as many aggregation groups of an Alertmanager waiting for their
   notification's answer), so this is the server at saturation.
   Then the same webhooks again at fixed rates (--paced, 500 alerts/s by default; open loop,
   paced.py), for the latency at a given load rather than at saturation.
2. The same alerts posted to a real Prometheus Alertmanager on the same machine, in the same run
   (its /api/v2/alerts), and the ratio of the two rates.
3. 10,000 mixed e-mails (every kind of the fixtures, made distinct) through the e-mail path
   (read_mail, parsers, triage, store), as `opsweek alerts ingest` of an mbox runs it.

The HTTP load comes from wrk (Debian package `wrk`) with post_bodies.lua: every body is
posted once; a Python client would be the bottleneck on this 2-core machine.

Floor (issue 32): >= 1,000 alerts/s at saturation with 2 web workers, p99 per webhook request
< 100 ms while 500 alerts/s arrive, >= 500 e-mails/s. A floor, not a target: once met, simpler
code wins.

    python benchmarks/ingest.py [--alerts N] [--emails N] [--concurrency N] [--workers N]
                                [--paced ALERTS_PER_S ...]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import paced

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import EMAIL
from opsweek.alerts.model import RawInput
from opsweek.db.session import open_store
from opsweek.tokens import Tokens

FLOOR = 1000.0  # alerts/s at saturation: a storm of a few thousand alerts, stored as they come
PACED = 500.0  # alerts/s arriving, at which a webhook's p99 must stay under P99_MS
P99_MS = 100.0
EMAILS = 500.0  # e-mails/s
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "alerts"
NAMES = [
    "HdfsCorruptBlocks",
    "SystemdUnitFailed",
    "EventgateValidationErrors",
    "FlinkKubernetesOperatorNotRunning",
    "PageContentChangeEnrichSLO",
]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_alerts(count: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    unique = int(count * 0.8)
    alerts: list[dict[str, object]] = []
    started = datetime(2026, 11, 1, tzinfo=UTC).isoformat()
    for i in range(count):
        n = i if i < unique else rng.randrange(unique)
        alerts.append(
            {
                "labels": {
                    "alertname": NAMES[n % len(NAMES)],
                    "instance": f"an-worker{n}:9100",
                    "severity": rng.choice(["warning", "critical"]),
                    "team": "data-engineering",
                },
                "annotations": {"summary": f"problem number {n} on an-worker{n}"},
                "startsAt": started,
                "generatorURL": f"https://prometheus.example.org/graph?g0.expr=up{{n={n}}}",
                "fingerprint": f"{n:016x}",
            }
        )
    rng.shuffle(alerts)
    return alerts


def webhook_body(batch: list[dict[str, object]]) -> bytes:
    return json.dumps(
        {
            "version": "4",
            "groupKey": '{}:{team="data-engineering"}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "opsweek",
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://127.0.0.1:9093",
            "alerts": [{"status": "firing", "endsAt": "0001-01-01T00:00:00Z", **a} for a in batch],
        }
    ).encode()


def am_body(batch: list[dict[str, object]]) -> bytes:
    return json.dumps([{k: v for k, v in a.items() if k != "fingerprint"} for a in batch]).encode()


def metric_total(url: str, name: str) -> float:
    """Sum of a Prometheus counter over its labels, read from a /metrics page."""
    text = httpx.get(url, timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") or line.startswith(name + " ")
    )


@dataclass(frozen=True)
class Latency:
    seconds: float  # from wrk's start until the server has taken every body
    p50: float  # milliseconds per request
    p90: float
    p99: float
    max: float

    def __str__(self) -> str:
        return (
            f"request p50 {self.p50:.1f} ms, p90 {self.p90:.1f} ms, p99 {self.p99:.1f} ms, "
            f"max {self.max:.0f} ms"
        )


def post_all(
    url: str,
    bodies: list[bytes],
    authorization: str,
    concurrency: int,
    tmp: Path,
    idle_path: str,
    finished: Callable[[], bool],
) -> Latency:
    """POST every body once with wrk (C, event-driven: a Python client would be the
    bottleneck on 2 cores) until ``finished()`` says the server has taken everything; wrk
    stops sending at the last answer, so its latency figures are those of the POSTs."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("this benchmark needs wrk (Debian package wrk)")
    lines = tmp / f"bodies-{random.random():.6f}.jsonl"
    lines.write_bytes(b"\n".join(bodies) + b"\n")
    process = subprocess.Popen(
        [
            wrk,
            "-t",
            "1",
            "-c",
            str(concurrency),
            "-d",
            "900s",
            "--timeout",
            "30s",
            "-s",
            str(Path(__file__).with_name("post_bodies.lua")),
            url,
            "--",
            str(lines),
            authorization,
            idle_path,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    began = time.perf_counter()
    while not finished():
        if process.poll() is not None:
            raise RuntimeError(
                f"wrk ended early: {process.stdout.read() if process.stdout else ''}"
            )
        time.sleep(0.02)
    elapsed = time.perf_counter() - began
    process.send_signal(signal.SIGINT)  # its thread stopped at the last answer; wrk waits
    output, _ = process.communicate(timeout=30)
    line = next((x for x in output.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk ended without a result: {output}")
    fields = dict(part.split("=") for part in line.split()[1:])
    if int(fields["errors"]):
        raise RuntimeError(f"{url}: {fields['errors']} failed requests\n{output}")
    return Latency(
        elapsed,
        *(float(fields[f"{name}_ms"]) for name in ("p50", "p90", "p99", "max")),
    )


def wait_ready(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


class StoredInputs:
    """How many webhook bodies are stored: one index lookup on a connection kept open, so that
    asking 50 times a second takes next to nothing from the server (counting the alerts, or
    asking its /metrics, took a third of a core; a new connection per question, 8 %)."""

    def __init__(self, database: Path) -> None:
        self.connection = sqlite3.connect(database)

    def __call__(self) -> int:
        # fetchall: the statement ends, and its read with it (a read left open would hold the
        # server's WAL checkpoints back)
        ((count,),) = self.connection.execute(
            "SELECT coalesce(max(id), 0) FROM raw_inputs"
        ).fetchall()
        return int(count)

    def close(self) -> None:
        self.connection.close()


@contextlib.contextmanager
def opsweek_server(data_dir: Path, workers: int) -> Iterator[tuple[str, str]]:
    """`opsweek serve` on a new SQLite store: its base URL and an API token."""
    store = open_store(f"sqlite:///{data_dir / 'opsweek.db'}")
    with store.session() as session:
        token = Tokens(session).create("bench", "benchmark")[1]
    store.close()
    port = free_port()
    # no scheduled checks: their findings would be stored among the webhooks' alerts
    env = {**os.environ, "OPSWEEK_DATA_DIR": str(data_dir), "OPSWEEK_CHECKS_INTERVAL_MINUTES": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "opsweek", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", server, "opsweek serve")
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.terminate()
        server.wait(timeout=30)


def stored_alerts(data_dir: Path) -> str:
    store = open_store(f"sqlite:///{data_dir / 'opsweek.db'}")
    with store.engine.connect() as connection:
        distinct, total = connection.exec_driver_sql(
            "SELECT count(*), sum(count) FROM alerts"
        ).one()
    store.close()
    return f"stored {distinct:,} distinct alerts, {total:,} occurrences"


def bench_opsweek(
    tmp: Path, bodies: list[bytes], alerts: int, concurrency: int, workers: int
) -> tuple[float, Latency]:
    """Capacity: wrk keeps ``concurrency`` webhooks in flight, as fast as they are answered."""
    data_dir = tmp / "opsweek"
    with (
        opsweek_server(data_dir, workers) as (base, token),
        contextlib.closing(StoredInputs(data_dir / "opsweek.db")) as stored,
    ):
        latency = post_all(
            f"{base}/api/v1/intake/alertmanager",
            bodies,
            f"Bearer {token}",
            concurrency,
            tmp,
            "/healthz",
            lambda: stored() >= len(bodies),
        )
    rate = alerts / latency.seconds
    print(
        f"  opsweek webhook, saturated: {alerts} alerts in {len(bodies)} requests, "
        f"{latency.seconds:.1f} s: {rate:,.0f} alerts/s; {latency} "
        f"({concurrency} connections, {workers} worker{'s' if workers > 1 else ''})"
    )
    print(f"    {stored_alerts(data_dir)} (duplicates folded into counts)")
    return rate, latency


def bench_paced(
    data_dir: Path, bodies: list[bytes], alerts_per_second: float, workers: int
) -> Latency:
    """Latency at a given load: a webhook due every 1 / rate seconds, open loop, timed from
    when it was due (see paced.py); into a new store, like the saturated run."""
    rate = alerts_per_second / 10
    with opsweek_server(data_dir, workers) as (base, token):
        result = paced.run(
            f"{base}/api/v1/intake/alertmanager",
            bodies,
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            rate,
        )
        if result.errors:
            raise RuntimeError(f"{len(result.errors)} failed webhooks, first: {result.errors[0]}")
        with contextlib.closing(StoredInputs(data_dir / "opsweek.db")) as stored:
            missing = stored() < len(bodies)
        if missing:
            raise RuntimeError("answered webhooks are missing from the store")
    latency = Latency(
        result.seconds,
        *(result.percentile(p) * 1000 for p in (50, 90, 99)),
        max(result.latencies) * 1000,
    )
    print(
        f"  opsweek webhook at {alerts_per_second:,.0f} alerts/s ({rate:,.0f} webhooks/s, "
        f"open loop, timed from when each was due): {len(bodies)} requests in "
        f"{result.seconds:.1f} s; {latency} (up to {result.connections} connections)"
    )
    return latency


def bench_alertmanager(
    tmp: Path, bodies: list[bytes], alerts: int, concurrency: int
) -> float | None:
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        print("  Alertmanager: not installed (Debian package prometheus-alertmanager); skipped")
        return None
    root = tmp / "am"
    root.mkdir()
    (root / "am.yml").write_text("route:\n  receiver: none\nreceivers:\n  - name: none\n")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={root / 'am.yml'}",
            f"--storage.path={root}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/-/ready", process, "Alertmanager")
        base = f"http://127.0.0.1:{port}"
        latency = post_all(
            f"{base}/api/v2/alerts",
            bodies,
            "",
            concurrency,
            tmp,
            "/-/healthy",
            lambda: metric_total(f"{base}/metrics", "alertmanager_alerts_received_total") >= alerts,
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
    rate = alerts / latency.seconds
    print(
        f"  Alertmanager /api/v2/alerts: {alerts} alerts in {latency.seconds:.1f} s: "
        f"{rate:,.0f} alerts/s; {latency}"
    )
    return rate


def make_emails(count: int) -> list[bytes]:
    samples = [p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))]
    mails = []
    for i in range(count):
        sample = samples[i % len(samples)]
        # distinct messages: a new Message-ID, and a partition hour / date that varies
        header = f"Message-ID: <bench-{i}@example.org>\r\n".encode()
        varied = sample.replace(b"hour=3", f"hour={i % 24}".encode()).replace(
            b"2023-11-07", f"2023-11-{1 + i % 28:02d}".encode()
        )
        mails.append(header + varied)
    return mails


def bench_emails(tmp: Path, count: int, batch: int = 500) -> float:
    mails = make_emails(count)
    store = open_store(f"sqlite:///{tmp / 'emails.db'}")
    now = datetime.now(UTC)
    changes = AlertChanges(store)
    began = time.perf_counter()
    for start in range(0, count, batch):
        changes.ingest(RawInput(m, EMAIL, now, "bench") for m in mails[start : start + batch])
    elapsed = time.perf_counter() - began
    store.close()
    rate = count / elapsed
    print(f"  e-mails: {count} mixed e-mails in {elapsed:.1f} s: {rate:,.0f} e-mails/s")
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--paced",
        type=float,
        nargs="*",
        default=[PACED],
        metavar="ALERTS_PER_S",
        help="measure the latency at these fixed rates (open loop, see paced.py)",
    )
    parser.add_argument("--workers", type=int, default=2, help="opsweek serve --workers")
    args = parser.parse_args()
    alerts = make_alerts(args.alerts, args.seed)
    batches = [alerts[i : i + 10] for i in range(0, len(alerts), 10)]
    print(f"intake benchmark ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        bodies = [webhook_body(b) for b in batches]
        ours, latency = bench_opsweek(tmp, bodies, len(alerts), args.concurrency, args.workers)
        at_pace = latency  # the saturated run's, unless PACED is measured
        for rate in args.paced:
            paced_latency = bench_paced(tmp / f"paced-{rate:.0f}", bodies, rate, args.workers)
            if rate == PACED:
                at_pace = paced_latency
        theirs = bench_alertmanager(
            tmp, [am_body(b) for b in batches], len(alerts), args.concurrency
        )
        if theirs:
            print(f"  ratio opsweek / Alertmanager: {ours / theirs:.2f}")
        emails = bench_emails(tmp, args.emails)
    ok = ours >= FLOOR and at_pace.p99 < P99_MS and emails >= EMAILS
    print(
        f"floor (>= {FLOOR:,.0f} alerts/s, p99 < {P99_MS:.0f} ms at {PACED:,.0f} alerts/s, "
        f">= {EMAILS:,.0f} e-mails/s): " + ("met" if ok else "MISSED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
