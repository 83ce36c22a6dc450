"""Three `opsweek serve` on one PostgreSQL, on loopback: the scheduled work (here the Airflow
poll, every second, against a stub that tells the servers apart by their tokens) runs on one
server at a time; the leader killed with SIGKILL mid-way, another takes over within a
minute; no poll is ever doubled. What one server is sent, the others show at once, and an
acknowledgement through one is seen on the others' pages."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from opsweek.db.session import open_store
from opsweek.tokens import Tokens
from tests.services.common import free_port, wait_until_ready
from tests.services.http_stub import Reply, Request, stub_server
from tests.services.postgres import PostgresServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ALERTS = Path(__file__).parents[1] / "fixtures" / "alerts"
SERVERS = 3
TAKEOVER = 60.0  # seconds: the "within a minute"


class Polls:
    """What the stub Airflow was asked, by whom (the bearer token of each server)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[float, str]] = []

    def answer(self, request: Request) -> Reply:
        who = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if request.method == "version":
            return Reply({"version": "3.3.2", "git_version": None})
        if request.method == "taskInstances":  # once per poll, first
            with self.lock:
                self.seen.append((time.monotonic(), who))
        return Reply({"task_instances": [], "dag_runs": [], "total_entries": 0})

    def since(self, moment: float) -> list[tuple[float, str]]:
        with self.lock:
            return [(at, who) for at, who in self.seen if at >= moment]


def database(postgres: PostgresServer) -> tuple[str, str]:
    """A new database, with the schema and an API token: its URL and the token."""
    admin = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE opsweek_servers"))
    admin.dispose()
    url = postgres.url("opsweek_servers")
    store = open_store(url)
    with store.session() as session:
        token = Tokens(session).create("alertmanager", "webhooks")[1]
    store.close()
    return url, token


def start(number: int, url: str, config: Path, tmp_path: Path) -> tuple[subprocess.Popen, str]:  # type: ignore[type-arg]
    port = free_port()
    env = {
        **os.environ,
        "OPSWEEK_CONFIG": str(config),
        "OPSWEEK_DATABASE_URL": url,
        "OPSWEEK_DATA_DIR": str(tmp_path / f"server{number}"),
        "AIRFLOW_TOKEN": f"server{number}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "opsweek", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(f"{base}/healthz", process, lambda: f"server {number} did not start", 60)
    return process, base


@pytest.fixture
def servers(
    postgres: PostgresServer, tmp_path: Path
) -> Iterator[tuple[list[subprocess.Popen], list[str], Polls, str]]:  # type: ignore[type-arg]
    polls = Polls()
    routes = {name: polls.answer for name in ("version", "taskInstances", "dagRuns")}
    with stub_server(routes) as airflow:
        config = tmp_path / "settings" / "opsweek.toml"
        config.parent.mkdir()
        config.write_text(
            "[checks]\ninterval_minutes = 0\n[airflow]\npoll_seconds = 1\n"
            f'[[airflow.instances]]\nname = "analytics"\nurl = "{airflow.url}"\n'
            'token_env = "AIRFLOW_TOKEN"\n'
        )
        url, token = database(postgres)
        started = [start(n, url, config, tmp_path) for n in range(SERVERS)]
        processes, bases = [p for p, _ in started], [b for _, b in started]
        try:
            yield processes, bases, polls, token
        finally:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=30)


def test_scheduled_work_runs_once_and_moves_when_the_leader_dies(
    servers: tuple[list[subprocess.Popen], list[str], Polls, str],  # type: ignore[type-arg]
) -> None:
    processes, bases, polls, token = servers
    began = time.monotonic()
    time.sleep(8)
    first = polls.since(began + 2)  # once all three run
    leaders = {who for _, who in first}
    assert len(leaders) == 1, first  # one server polls; the two others wait
    assert 4 <= len(first) <= 8  # once a second, not three times
    leader = int(next(iter(leaders)).removeprefix("server"))

    killed_at = time.monotonic()
    os.kill(processes[leader].pid, signal.SIGKILL)
    deadline = killed_at + TAKEOVER
    while time.monotonic() < deadline:
        after = [who for at, who in polls.since(killed_at + 1.5)]
        if after:
            break
        time.sleep(0.5)
    moved = polls.since(killed_at + 1.5)
    assert moved, "no server took the polls over within a minute"
    took_over = moved[0][0] - killed_at
    time.sleep(6)
    later = polls.since(moved[0][0])
    assert {who for _, who in later} == {moved[0][1]} != leaders  # one new leader only
    assert 4 <= len(later) <= 8

    # never doubled: the whole run, polls at least most of a second apart
    everything = polls.since(began + 2)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(everything)]
    assert min(gaps) > 0.5, gaps
    assert took_over < 10, took_over  # the next round of the others' jobs

    # what one of the others is sent, the last one shows; and acknowledged there, here too
    alive = [base for n, base in enumerate(bases) if n != leader]
    auth = {"Authorization": f"Bearer {token}"}
    webhook = (ALERTS / "alertmanager_firing.json").read_bytes()
    sent = httpx.post(f"{alive[0]}/api/v1/intake/alertmanager", content=webhook, headers=auth)
    assert sent.status_code == 200, sent.text
    listed = httpx.get(f"{alive[1]}/api/v1/alerts?status=firing", headers=auth).json()
    assert len(listed["alerts"]) == sent.json()["new"] > 0  # stored once, seen by all
    first = listed["alerts"][0]["id"]
    page = httpx.get(f"{alive[0]}/alerts/{first}").text  # kept by this server's page cache
    assert "firing" in page
    acked = httpx.post(f"{alive[1]}/api/v1/alerts/{first}/ack", headers=auth)
    assert acked.status_code == 200, acked.text
    assert "acknowledged by alertmanager" in httpx.get(f"{alive[0]}/alerts/{first}").text
