"""IMAP polling against a real Dovecot on 127.0.0.1: unseen alert e-mails are ingested once
and flagged as seen; a mailbox that is away is retried, not fatal."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from opsweek.adapters.mail import ImapPoller
from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.model import RawInput
from opsweek.db.models import Alert, RawInputRow
from opsweek.db.session import open_store
from tests.alerts.helpers import ALERT_FIXTURES
from tests.services.common import free_port
from tests.services.dovecot import dovecot

pytestmark = pytest.mark.integration


def test_imap_poller_ingests_unseen_messages_once(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'imap.db'}")

    def sink(raw: RawInput) -> None:
        with store.writing() as session:
            AlertChanges(store).ingest([raw], None, session)

    with dovecot() as server:
        client = server.client()
        for name in ("airflow_task_failed.eml", "systemd_timer_fail_drop.eml"):
            client.append("INBOX", (ALERT_FIXTURES / name).read_bytes())
        client.logout()
        poller = ImapPoller(
            "127.0.0.1",
            server.port,
            server.user,
            server.password,
            "INBOX",
            ssl=False,
            interval=60,
            sink=sink,
        )
        assert poller.poll_once() == 2
        assert poller.poll_once() == 0  # flagged as seen: not read twice
        client = server.client()
        client.select_folder("INBOX")
        assert len(client.search(["SEEN"])) == 2
        client.logout()
    with store.session() as session:
        kinds = sorted(a.kind for a in session.scalars(select(Alert)))
        assert kinds == ["airflow_task_failed", "systemd_timer_failed"]
        origins = session.scalars(select(RawInputRow.origin)).all()
        assert all(o.startswith("imap:INBOX/") for o in origins)
    store.close()


def test_unreachable_mailbox_raises_for_one_poll_only() -> None:
    poller = ImapPoller(
        "127.0.0.1", free_port(), "u", "p", "INBOX", ssl=False, interval=60, sink=lambda raw: None
    )
    with pytest.raises(OSError):
        poller.poll_once()
