"""kill -9 of `opsweek serve --workers 2` in the middle of a stream of webhooks: every webhook
that was acknowledged is stored, the workers die with the server (the port is free again at
once), and a new server starts on the same port."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from opsweek.db.models import RawInputRow
from opsweek.db.session import open_store
from opsweek.tokens import Tokens
from tests.security.serving import serve
from tests.services.common import free_port

pytestmark = pytest.mark.slow


def webhook(n: int) -> bytes:
    return (
        '{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing",'
        f'"labels":{{"alertname":"Crash{n}","instance":"h:1"}},"fingerprint":"crash-{n}"}}]}}'
    ).encode()


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_kill_9_loses_no_acknowledged_webhook_and_frees_the_port(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'opsweek.db'}")
    with store.session() as session:
        token = Tokens(session).create("alertmanager", "webhook")[1]
    store.close()
    port = free_port()
    acknowledged: list[int] = []
    stop = threading.Event()
    with serve(tmp_path, workers=2, port=port) as served:

        def stream() -> None:
            with httpx.Client(base_url=served.url, timeout=5) as client:
                n = 0
                while not stop.is_set():
                    n += 1
                    try:
                        answer = client.post(
                            "/api/v1/intake/alertmanager",
                            content=webhook(n),
                            headers={"Authorization": f"Bearer {token}"},
                        )
                    except httpx.HTTPError:
                        continue
                    if answer.status_code == 200:
                        acknowledged.append(n)

        senders = [threading.Thread(target=stream) for _ in range(4)]
        for sender in senders:
            sender.start()
        time.sleep(3)
        os.kill(served.process.pid, signal.SIGKILL)
        served.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not port_free(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        for sender in senders:
            sender.join(timeout=10)
        assert port_free(port), "a worker outlived the server and keeps the port"
    assert len(acknowledged) > 20
    with serve(tmp_path, workers=2, port=port):  # starts again on the same port
        pass  # serve() itself waits until it answers, and fails if it cannot bind
    store = open_store(f"sqlite:///{tmp_path / 'opsweek.db'}")
    with store.session() as session:
        stored = session.scalar(select(func.count()).select_from(RawInputRow))
        names = {r.content for r in session.scalars(select(RawInputRow))}
    store.close()
    assert stored is not None and stored >= len(acknowledged)
    missing = [n for n in acknowledged if webhook(n) not in names]
    assert not missing, f"acknowledged but not stored: {missing[:10]}"
