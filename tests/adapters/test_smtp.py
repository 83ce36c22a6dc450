"""The SMTP listener on 127.0.0.1: a forwarded alert e-mail lands in the inbox."""

from __future__ import annotations

import smtplib
from pathlib import Path

import pytest
from sqlalchemy import select

from opsweek.adapters.mail import SmtpListener
from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.model import RawInput
from opsweek.db.models import Alert, RawInputRow
from opsweek.db.session import open_store
from tests.alerts.helpers import ALERT_FIXTURES
from tests.services.common import free_port


def test_smtp_listener_ingests_and_refuses_oversize(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'smtp.db'}")

    def sink(raw: RawInput) -> None:
        with store.writing() as session:
            AlertChanges(store).ingest([raw], None, session)

    listener = SmtpListener("127.0.0.1", free_port(), sink, max_bytes=200_000)
    listener.start()
    try:
        mail = (ALERT_FIXTURES / "refine_failure_qp_crlf.eml").read_bytes()
        with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as client:
            client.sendmail("noreply@wikimedia.org", ["opsweek@example.org"], mail)
            with pytest.raises(smtplib.SMTPException):
                client.sendmail(
                    "x@example.org",
                    ["opsweek@example.org"],
                    b"Subject: big\r\n\r\n" + b"x" * 300_000,
                )
    finally:
        listener.stop()
    with store.session() as session:
        raws = session.scalars(select(RawInputRow)).all()
        assert len(raws) == 1 and raws[0].origin == "smtp:127.0.0.1"
        alerts = session.scalars(select(Alert)).all()
        assert [a.details["job"] for a in alerts] == ["refine_eventlogging_analytics"] * 3
    store.close()
