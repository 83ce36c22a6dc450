"""`opsweek serve --demo --workers 2` (the README's first command, with two workers): the demo
is served, two processes answer, and both show a change committed by a third process at once
(their page caches follow the store, not their own writes); webhooks to either worker are
stored once, by the serve process's writer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from opsweek.alerts.changes import AlertChanges
from opsweek.db.session import open_store
from opsweek.tokens import Tokens
from tests.alerts.helpers import ALERT_FIXTURES, raw_inputs
from tests.services.common import free_port, wait_until_ready

pytestmark = pytest.mark.slow


def workers_of(pid: int) -> list[int]:
    """The worker processes uvicorn spawned under ``pid``, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if parent == pid and b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return found


def test_two_workers_show_what_another_process_committed(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "OPSWEEK_DATA_DIR": str(tmp_path),
        "OPSWEEK_CHECKS_INTERVAL_MINUTES": "0",
        "OPSWEEK_CONFIG": "",
    }
    store = open_store(f"sqlite:///{tmp_path / 'opsweek.db'}")
    with store.session() as session:
        token = Tokens(session).create("alertmanager", "webhook")[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "opsweek", "serve", "--demo", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(
            f"{base}/healthz",
            server,
            lambda: server.stdout.read().decode() if server.stdout else "",
            timeout=60,
        )
        assert len(workers_of(server.pid)) == 2
        today = httpx.get(f"{base}/", timeout=10).text
        assert "is on ops duty until" in today and "Unanswered in the collaboration" in today
        for _ in range(40):  # a new connection each time: both workers answer and keep a page
            response = httpx.get(f"{base}/inbox", headers={"Connection": "close"}, timeout=10)
            assert response.status_code == 200 and "event.mediawiki_foo" not in response.text
        with store.writing() as session:
            AlertChanges(store).ingest(raw_inputs("refine_failure.eml"), None, session)
        for _ in range(40):
            response = httpx.get(f"{base}/inbox", headers={"Connection": "close"}, timeout=10)
            assert "event.mediawiki_foo" in response.text
        # webhooks to both workers, stored by the one writer of the serve process
        webhook = (ALERT_FIXTURES / "alertmanager_firing.json").read_bytes()
        answers = [
            httpx.post(
                f"{base}/api/v1/intake/alertmanager",
                content=webhook,
                headers={"Authorization": f"Bearer {token}", "Connection": "close"},
                timeout=10,
            )
            for _ in range(20)
        ]
        assert [a.status_code for a in answers] == [200] * 20
        assert sum(a.json()["new"] for a in answers) == 3
        assert all(a.json()["received"] == 3 for a in answers)
    finally:
        server.terminate()
        server.wait(timeout=30)
        store.close()
