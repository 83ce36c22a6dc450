"""Live updates benchmark (issue 21).

`opsweek serve --workers 2` in its own process on a SQLite store holding the demo team and
``--open`` open alerts; 50 open pages, each one an event stream (/events) plus what htmx does
with it: when an event names a topic of one of the page's live parts, that part is fetched
again (Today: /?part=duties, /?part=alerts, /?part=sal; the Inbox: /inbox), one fetch at a
time per part and the last one queued, as `hx-sync="this:queue last"`, saying when the change
was seen (X-Opsweek-Since), as opsweek.js does.

1. Time to see an alert: webhooks of one new alert each, ``--gap`` seconds apart, with 50 Today
   pages open; for each page, the time from sending the webhook to the first fetch of Today
   that shows the alert. Target: p99 < 1 s.
2. An alert storm: ``--storm-rate`` webhooks/s of 10 alerts each for ``--storm-seconds``,
   open loop (benchmarks/paced.py), with 25 Today and 25 Inbox pages open, each also loaded
   again every 2 s (someone clicking around). Target: page loads p99 < 100 ms for Today and
   for the Inbox. Also printed: how long the live parts' fetches take; each waits for a
   rendering begun after the change it was told of.

    python benchmarks/live.py [--open 6000] [--pages 50] [--checks 30] [--gap 1.2]
                              [--storm-rate 100] [--storm-seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).parent))
import paced
from ingest import make_alerts, webhook_body

from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import Alert
from opsweek.db.session import open_store
from opsweek.demo import seed
from opsweek.rotation.views import RotationConfig
from opsweek.tokens import Tokens
from web import serving

# the live parts of a page: (topic, what is fetched when the topic changed)
TODAY_PARTS = (("sal", "/?part=duties"), ("alerts", "/?part=alerts"), ("sal", "/?part=sal"))
INBOX_PARTS = (("alerts", "/inbox"),)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else 0.0


def add_open_alerts(store, count: int, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """``count`` open alerts, a quarter of them acknowledged, seen over the last two days."""
    rng = random.Random(7)
    rows = []
    for n in range(count):
        first = now - timedelta(minutes=rng.randrange(60, 2880))
        acked = n % 4 == 0
        rows.append(
            {
                "fingerprint": f"open{n:08}",
                "kind": "alertmanager",
                "source": "alertmanager",
                "title": f"HostDown an-worker{n}: host unreachable",
                "severity": "warning",
                "status": "acknowledged" if acked else "firing",
                "group_key": f"g{n % 300}",
                "first_seen": first,
                "last_seen": first + timedelta(minutes=30),
                "count": 1,
                "fire_count": 1,
                "flapping": False,
                "flap_history": [],
                "details": {"alertname": "HostDown", "instance": f"an-worker{n}:9100"},
                "acked_by": "ana" if acked else None,
                "acked_at": first + timedelta(minutes=5) if acked else None,
                "updated_at": now,
            }
        )
    with store.engine.begin() as connection:
        connection.execute(insert(Alert), rows)


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: far less client CPU than httpx,
    which shares the two cores with the server here (answers have a Content-Length)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.reader is None or self.reader.at_eof():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.writer is not None
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{head}\r\n".encode())
        status, fields = await read_head(self.reader)
        body = await self.reader.readexactly(int(fields["content-length"]))
        return status, body


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
    return int(status_line.split(" ", 2)[1]), fields


@dataclass
class LivePage:
    """One open page: its event stream and its live parts, fetched as htmx would."""

    parts: tuple[tuple[str, str], ...]
    fetches: list[float] = field(default_factory=list)  # seconds each fetch took
    loads: list[float] = field(default_factory=list)  # seconds each whole page load took
    errors: int = 0
    seen: dict[str, float] = field(default_factory=dict)  # marker -> when first shown
    markers: list[str] = field(default_factory=list)  # what to look for in fetched pages

    async def run(self, host: str, port: int, ready: asyncio.Event) -> None:
        busy = [False] * len(self.parts)
        again = [False] * len(self.parts)
        since = ["0"] * len(self.parts)  # when the change a part is fetched for was seen
        connections = [Connection(host, port) for _ in self.parts]

        async def fetch(index: int) -> None:
            busy[index] = True
            try:
                while True:
                    again[index] = False
                    began = time.perf_counter()
                    headers = {"HX-Request": "true", "X-Opsweek-Since": since[index]}
                    try:
                        status, body = await connections[index].get(self.parts[index][1], headers)
                    except (OSError, asyncio.IncompleteReadError, KeyError):
                        connections[index] = Connection(host, port)
                        self.errors += 1
                        return
                    if status != 200:
                        self.errors += 1
                        return
                    self.fetches.append(time.perf_counter() - began)
                    now = time.perf_counter()
                    for marker in self.markers:
                        if marker not in self.seen and marker.encode() in body:
                            self.seen[marker] = now
                    if not again[index]:
                        return
            finally:
                busy[index] = False

        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET /events HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        await read_head(reader)  # then chunks of "event: ...\ndata: ...\n\n" lines
        name = ""
        while True:
            line = (await reader.readline()).decode().strip()
            if line.startswith("event: "):
                name = line[7:]
                continue
            if not line.startswith("data: "):
                continue
            if name == "hello":
                ready.set()
                continue
            change = json.loads(line[6:])
            topics = change["topics"]
            for index, (topic, _) in enumerate(self.parts):
                if topic in topics or "*" in topics:
                    since[index] = str(change["at"])
                    if busy[index]:
                        again[index] = True
                    else:
                        asyncio.get_running_loop().create_task(fetch(index))

    async def reload(self, host: str, port: int, path: str, every: float) -> None:
        """Someone loading the whole page now and then (a navigation: the page cache may
        answer with the page as it was one rendering ago)."""
        await asyncio.sleep(random.random() * every)
        while True:
            began = time.perf_counter()
            try:  # a new connection each time: the server closes idle ones after 5 s
                status, _ = await Connection(host, port).get(path, {})
                if status != 200:
                    raise OSError(f"HTTP {status}")
                self.loads.append(time.perf_counter() - began)
            except (OSError, asyncio.IncompleteReadError, KeyError):
                self.errors += 1
            await asyncio.sleep(every)


async def open_pages(base: str, pages: list[LivePage]) -> list[asyncio.Task[None]]:
    host, port = address(base)
    readies = [asyncio.Event() for _ in pages]
    tasks = [
        asyncio.get_running_loop().create_task(page.run(host, port, ready))
        for page, ready in zip(pages, readies, strict=True)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
    return tasks


def address(base: str) -> tuple[str, int]:
    host, _, port = base.removeprefix("http://").partition(":")
    return host, int(port)


async def time_to_see(base: str, token: str, pages: int, checks: int, gap: float) -> list[float]:
    today = [LivePage(TODAY_PARTS) for _ in range(pages)]
    tasks = await open_pages(base, today)
    client = httpx.AsyncClient(timeout=30)
    await asyncio.sleep(1)
    sent: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for n in range(checks):
        marker = f"LiveCheck{n:04}x"
        for page in today:
            page.markers.append(marker)
        alert = {
            "labels": {"alertname": marker, "instance": "an-test1001:9100", "severity": "critical"},
            "annotations": {"summary": f"{marker} on an-test1001"},
            "startsAt": datetime.now(UTC).isoformat(),
            "generatorURL": "https://prometheus.example.org/graph",
        }
        sent[marker] = time.perf_counter()
        answer = await client.post(
            base + "/api/v1/intake/alertmanager", content=webhook_body([alert]), headers=headers
        )
        answer.raise_for_status()
        await asyncio.sleep(gap)
    await asyncio.sleep(3)
    for task in tasks:
        task.cancel()
    await client.aclose()
    delays = []
    for page in today:
        for marker, at in sent.items():
            delays.append(page.seen.get(marker, float("inf")) - at)
    return delays


async def storm(
    base: str, token: str, pages: int, rate: float, seconds: float
) -> tuple[list[LivePage], list[LivePage], paced.PacedResult]:
    today = [LivePage(TODAY_PARTS) for _ in range(pages // 2)]
    inbox = [LivePage(INBOX_PARTS) for _ in range(pages - pages // 2)]
    tasks = await open_pages(base, today + inbox)
    loop = asyncio.get_running_loop()
    host, port = address(base)
    tasks += [loop.create_task(page.reload(host, port, "/", 2)) for page in today]
    tasks += [loop.create_task(page.reload(host, port, "/inbox", 2)) for page in inbox]
    await asyncio.sleep(1)
    alerts = make_alerts(int(rate * seconds * 10), 3)
    bodies = [webhook_body(alerts[i : i + 10]) for i in range(0, len(alerts), 10)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    result: list[paced.PacedResult] = []
    url = base + "/api/v1/intake/alertmanager"
    sender = threading.Thread(target=lambda: result.append(paced.run(url, bodies, headers, rate)))
    for page in today + inbox:
        page.fetches.clear()
        page.loads.clear()
    sender.start()
    while sender.is_alive():
        await asyncio.sleep(0.2)
    await asyncio.sleep(1)
    for task in tasks:
        task.cancel()
    return today, inbox, result[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=6000, help="open alerts to start with")
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--checks", type=int, default=30, help="webhooks timed to the page")
    parser.add_argument("--gap", type=float, default=1.2, help="seconds between them")
    parser.add_argument("--storm-rate", type=float, default=100, help="webhooks/s")
    parser.add_argument("--storm-seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="opsweek-bench-live-"))
    data = tmp / "data"
    env = {**os.environ, "OPSWEEK_DATA_DIR": str(data)}
    settings = load_settings(env=env)
    store = open_store(settings.database_url)
    now = datetime.now(UTC)
    with store.writing() as session:
        seed(
            AlertChanges(store),
            session,
            RotationConfig.from_settings(settings.rotation),
            now,
            duties=App(settings).duty_book,
        )
        token = Tokens(session).create("bench", "benchmark")[1]
    add_open_alerts(store, args.open, now)
    store.close()
    print(
        f"live updates benchmark: {args.open:,} open alerts, {args.pages} open pages, "
        f"opsweek serve --workers {args.workers}"
    )
    failed = False
    try:
        env = {**os.environ, "OPSWEEK_DATA_DIR": str(data), "OPSWEEK_CHECKS_INTERVAL_MINUTES": "0"}
        with serving(env, args.workers) as base:
            delays = asyncio.run(time_to_see(base, token, args.pages, args.checks, args.gap))
            shown = [d for d in delays if d != float("inf")]
            p50, p99 = percentile(delays, 50), percentile(delays, 99)
            ok = p99 < 1.0 and len(shown) == len(delays)
            failed |= not ok
            print(
                f"  a new alert on {args.pages} open Today pages ({args.checks} webhooks, "
                f"{len(delays)} page views): shown in p50 {p50 * 1000:.0f} ms, "
                f"p99 {p99 * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms; "
                f"{len(delays) - len(shown)} never shown - target p99 < 1 s: "
                f"{'OK' if ok else 'MISSED'}"
            )
            today, inbox, sent = asyncio.run(
                storm(base, token, args.pages, args.storm_rate, args.storm_seconds)
            )
            print(
                f"  storm: {len(sent.latencies)} webhooks of 10 alerts at {args.storm_rate:.0f}/s "
                f"({args.storm_rate * 10:,.0f} alerts/s) in {sent.seconds:.1f} s, webhook p99 "
                f"{sent.percentile(99) * 1000:.0f} ms, {len(sent.errors)} errors"
            )
            for name, pages in (("Today", today), ("Inbox", inbox)):
                loads = [load for page in pages for load in page.loads]
                fetches = [fetch for page in pages for fetch in page.fetches]
                errors = sum(page.errors for page in pages)
                p99 = percentile(loads, 99)
                ok = p99 < 0.1 and not errors
                failed |= not ok
                print(
                    f"    {name:<6} {len(loads):5} page loads (each page every 2 s): p50 "
                    f"{percentile(loads, 50) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
                    f"{errors} errors - target p99 < 100 ms: {'OK' if ok else 'MISSED'}"
                )
                print(
                    f"    {name:<6} {len(fetches):5} fetches of live parts, each until it shows "
                    f"the change: p50 {percentile(fetches, 50) * 1000:.1f} ms, p99 "
                    f"{percentile(fetches, 99) * 1000:.1f} ms"
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
