"""`opsweek serve` as a library: a test starts the server with its SMTP listener, sends it a
webhook and an e-mail, and stops it; the port and the listener are free afterwards."""

from __future__ import annotations

import smtplib
import socket
import threading
import time
import urllib.request
from pathlib import Path

from sqlalchemy import func, select

from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import RawInputRow
from opsweek.server import Server
from opsweek.tokens import Tokens
from tests.alerts.helpers import ALERT_FIXTURES
from tests.services.common import free_port


def wait_for(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            assert time.monotonic() < deadline, f"{url} did not answer"
            time.sleep(0.05)


def port_is_free(port: int) -> bool:
    """Whether a server starting now could listen on ``port`` (as servers do, with
    SO_REUSEADDR: connections closing in TIME_WAIT do not hold it)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_a_server_starts_stores_and_stops(tmp_path: Path) -> None:
    web_port, smtp_port = free_port(), free_port()
    settings = load_settings(
        env={
            "OPSWEEK_DATA_DIR": str(tmp_path),
            "OPSWEEK_INTAKE_SMTP_LISTEN": f"127.0.0.1:{smtp_port}",
            "OPSWEEK_CHECKS_INTERVAL_MINUTES": "0",
        }
    )
    ops = App(settings)
    with ops.session() as session:
        token = Tokens(session).create("alertmanager", "webhook")[1]
    server = Server(ops, "127.0.0.1", web_port, workers=1)
    server.start()
    serving = threading.Thread(target=server.serve, daemon=True)
    serving.start()
    try:
        wait_for(f"{server.url}/healthz")
        request = urllib.request.Request(
            f"{server.url}/api/v1/intake/alertmanager",
            data=(ALERT_FIXTURES / "alertmanager_firing.json").read_bytes(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.sendmail(
                "airflow@example.org",
                ["alerts@example.org"],
                (ALERT_FIXTURES / "refine_failure_qp_crlf.eml").read_bytes(),
            )
    finally:
        server.shutdown()
        serving.join(timeout=20)
        server.stop()
    assert not serving.is_alive()
    with ops.session() as session:
        assert session.scalar(select(func.count()).select_from(RawInputRow)) == 2
    assert port_is_free(web_port) and port_is_free(smtp_port)
    ops.close()
