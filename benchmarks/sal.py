"""SAL benchmark: 1,000,000 entries in SQLite; full-text search p50/p99 over 20 realistic
queries; related-entry lookup for 1,000 alerts. Targets: search p99 < 30 ms, related lookup
p99 < 10 ms.

    python benchmarks/sal.py [--entries N] [--seed N]

The entries are written with SalLog.append's own reference extraction, in bulk (building a
million entries one transaction each would measure the setup, not the lookups).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import ALERTMANAGER
from opsweek.alerts.model import RawInput
from opsweek.alerts.service import Inbox
from opsweek.db.models import Alert, SalEntry, SalRef
from opsweek.db.session import Store, open_store
from opsweek.sal.log import SalLog
from opsweek.sal.refs import extract_refs

NICKS = [
    "joal",
    "milimetric",
    "ottomata",
    "btullis",
    "stevemunene",
    "xcollazo",
    "mforns",
    "aqu",
    "gmodena",
    "brouberol",
]
JOBS = [
    f"refine_{name}"
    for name in (
        "event",
        "eventlogging_analytics",
        "eventlogging_legacy",
        "netflow",
        "event_sanitized",
    )
] + [f"{d}_hourly" for d in ("edit", "pageview", "webrequest_actor_metrics", "session_length")]
TABLES = [
    f"event.{t}"
    for t in (
        "mediawiki_page_change",
        "navigationtiming",
        "homepagevisit",
        "contenttranslation",
        "mediawiki_revision_create",
    )
] + ["wmf.webrequest", "wmf.pageview_hourly", "wmf_raw.mediawiki_history"]
HOSTS = [f"an-worker{n}" for n in range(1100, 1180)] + ["an-launcher1002", "an-coord1001"]
TEMPLATES = [
    "reran {job} for {table} {hour} (T{task})",
    "restarted hive-server2 on {host}",
    "deployed refinery to hdfs, {job} picks it up at the next run",
    "msck repair table {table}; deletion script happy again",
    "paused {job} until T{task} is fixed",
    "cleared failed task instances of {job} for {hour}",
    "decommissioned {host} (T{task})",
    "{job}: backfilled {table} since {hour}",
]
QUERIES = [
    "reran refine_event",
    "hive-server2",
    "msck repair",
    "deployed refinery",
    "webrequest",
    "an-worker1142",
    "T312345",
    "backfilled navigationtiming",
    "paused edit_hourly",
    "decommissioned",
    "deletion script",
    "refine_netflow",
    "homepagevisit",
    "cleared failed",
    "pageview_hourly",
    "an-coord1001",
    "mediawiki_history",
    "contenttranslation",
    "session_length_hourly",
    "schema cache",
]


def message(rng: random.Random, at: datetime) -> str:
    return rng.choice(TEMPLATES).format(
        job=rng.choice(JOBS),
        table=rng.choice(TABLES),
        host=rng.choice(HOSTS),
        hour=at.strftime("%Y-%m-%dT%H"),
        task=rng.randrange(200_000, 400_000),
    )


def populate(store: Store, count: int, rng: random.Random, end: datetime) -> None:
    began = time.perf_counter()
    start = end - timedelta(days=3 * 365)
    step = (end - start) / count
    batch = 20_000
    with store.engine.begin() as connection:
        next_id = 1
        for offset in range(0, count, batch):
            entries, refs = [], []
            for i in range(offset, min(count, offset + batch)):
                at = start + step * i
                text = message(rng, at)
                entries.append(
                    {
                        "id": next_id,
                        "logged_at": at,
                        "nick": rng.choice(NICKS),
                        "message": text,
                        "channel": "#wikimedia-analytics",
                        "project": "analytics",
                        "host": "",
                        "source": "import",
                        "corrects_id": None,
                    }
                )
                refs += [
                    {"entry_id": next_id, "kind": r.kind, "value": r.value, "logged_at": at}
                    for r in extract_refs(text)
                ]
                next_id += 1
            connection.execute(insert(SalEntry), entries)
            connection.execute(insert(SalRef), refs)
    print(f"  wrote {count:,} entries in {time.perf_counter() - began:.0f} s (setup)")


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    print(f"SAL benchmark: {args.entries:,} entries, SQLite")
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'sal.db'}")
        populate(store, args.entries, rng, now)
        alerts = [
            {
                "status": "firing",
                "labels": {
                    "alertname": "SystemdUnitFailed",
                    "name": f"{rng.choice(JOBS)}.service",
                    "instance": f"{rng.choice(HOSTS)}:9100",
                    "severity": "warning",
                },
                "annotations": {"summary": f"{rng.choice(TABLES)} stale"},
                "startsAt": now.isoformat(),
                "fingerprint": f"{i:016x}",
            }
            for i in range(1000)
        ]
        body = (
            '{"version":"4","groupKey":"g","status":"firing","receiver":"r","alerts":'
            + __import__("json").dumps(alerts)
            + "}"
        ).encode()
        AlertChanges(store).ingest([RawInput(body, ALERTMANAGER, now, "bench")], now)
        search, related = [], []
        with store.session() as session:
            sal = SalLog(session)
            for _ in range(5):
                for query in QUERIES:
                    began = time.perf_counter()
                    sal.search(query, limit=50)
                    search.append(time.perf_counter() - began)
            inbox = Inbox(session)
            window = timedelta(hours=72)
            found = 0
            for alert in session.query(Alert).all():
                began = time.perf_counter()
                found += bool(inbox.related_sal(alert, window))
                related.append(time.perf_counter() - began)
        store.close()
    print(
        f"  search ({len(QUERIES)} queries x 5, newest 50): p50 {pct(search, 50):.1f} ms, "
        f"p99 {pct(search, 99):.1f} ms - target p99 < 30 ms"
    )
    print(
        f"  related entries for {len(related)} alerts (72 h window): p50 "
        f"{pct(related, 50):.2f} ms, p99 {pct(related, 99):.2f} ms - target p99 < 10 ms; "
        f"{found} alerts had related entries"
    )
    ok = pct(search, 99) < 30 and pct(related, 99) < 10
    print(f"targets: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
