"""One input cannot fill the disk or hold the writer: storage grows linearly with an input,
e-mails are stored once however often they are delivered, the
SMTP listener answers in time, and an oversized or refused IMAP message does not block the
mailbox."""

from __future__ import annotations

import smtplib
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from opsweek.adapters.mail import ImapPoller, SmtpListener
from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.details_cap import DETAILS_LIMIT
from opsweek.alerts.formats import EMAIL
from opsweek.alerts.model import RawInput
from opsweek.db.models import Alert, RawInputRow
from opsweek.db.session import Store, open_store
from opsweek.jsontext import encode_json
from tests.alerts.helpers import ALERT_FIXTURES
from tests.services.common import free_port

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def refine_mail(lines: int, exception: str = "") -> bytes:
    """The e-mail of the issue's reproduction: one failed table per line."""
    failures = "\n".join(
        f"\torg.wikimedia.analytics.refinery.job.refine.RefineTargetException: Failed "
        f"refinement of hdfs://x -> `event`.`t{i}` year=2026 at /p{i}.{exception}"
        for i in range(lines)
    )
    return (
        f"From: Refinery <noreply@wikimedia.org>\nSubject: Refine failures for job refine_event\n"
        f"Message-ID: <{lines}.{len(exception)}@an-launcher1002.eqiad.wmnet>\n\n"
        "Refine failures for path /wmf/data/raw/event -> database event (/wmf/data/event)\n\n"
        f"{failures}\n"
    ).encode()


def grown(tmp_path: Path, content: bytes) -> int:
    """Bytes the SQLite file grew by, storing ``content``, checkpointed."""
    store = open_store(f"sqlite:///{tmp_path / f'{len(content)}.db'}")
    path = tmp_path / f"{len(content)}.db"
    with store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    before = path.stat().st_size
    counts = AlertChanges(store).take(RawInput(content, EMAIL, NOW))
    with store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        assert counts.new == connection.exec_driver_sql("select count(*) from alerts").scalar()
    store.close()
    return path.stat().st_size - before


def test_storage_grows_linearly_with_the_input(tmp_path: Path) -> None:
    """A Refine e-mail of 2,000 failed tables used to store every table list in every alert:
    138 kB of mail, 134 MB of store. Now ten times the input is at most about ten times the
    bytes."""
    small, large = refine_mail(200), refine_mail(2000)
    small_growth, large_growth = grown(tmp_path, small), grown(tmp_path, large)
    assert large_growth <= 11 * small_growth, (small_growth, large_growth)
    assert large_growth < 30 * len(large)


def test_one_alert_keeps_at_most_its_cap(store: Store) -> None:
    huge = refine_mail(3, exception=" Original exception: " + "x" * 500_000)
    AlertChanges(store).take(RawInput(huge, EMAIL, NOW))
    with store.session() as session:
        for alert in session.scalars(select(Alert)):
            assert len(encode_json(alert.details)) <= DETAILS_LIMIT
        (raw,) = session.scalars(select(RawInputRow)).all()
        assert raw.content == huge  # the raw input keeps everything


def test_an_email_delivered_twice_is_stored_once(store: Store) -> None:
    mail = (ALERT_FIXTURES / "refine_failure.eml").read_bytes()
    changes = AlertChanges(store)
    first = changes.take(RawInput(mail, EMAIL, NOW, "smtp:relay1"))
    again = changes.take(RawInput(mail, EMAIL, NOW, "imap:INBOX/7"))
    assert (first.new, again.duplicates, again.received) == (3, 1, 0)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(RawInputRow)) == 1
        assert {a.count for a in session.scalars(select(Alert))} == {1}


class SlowSink:
    """An intake that takes its time (a store under load) and stores for real."""

    def __init__(self, store: Store, seconds: float) -> None:
        self.changes = AlertChanges(store)
        self.seconds = seconds

    def __call__(self, raw: RawInput) -> object:
        time.sleep(self.seconds)
        return self.changes.take(raw)


def test_smtp_answers_within_its_time_and_a_retry_is_not_stored_twice(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'smtp.db'}")
    sink = SlowSink(store, 1.5)
    listener = SmtpListener("127.0.0.1", free_port(), sink, 1 << 20, answer_seconds=0.5)
    listener.start()
    mail = (ALERT_FIXTURES / "refine_failure_qp_crlf.eml").read_bytes()
    try:
        with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as client:
            began = time.monotonic()
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.sendmail("noreply@wikimedia.org", ["opsweek@example.org"], mail)
            assert refused.value.smtp_code == 451 and time.monotonic() - began < 1.5
        time.sleep(2)  # the first delivery was stored after all
        sink.seconds = 0
        with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as client:
            client.sendmail("noreply@wikimedia.org", ["opsweek@example.org"], mail)  # the retry
    finally:
        listener.stop()
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(RawInputRow)) == 1
    store.close()


def test_a_slow_store_does_not_hold_other_smtp_senders(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'smtp.db'}")
    sink = SlowSink(store, 2.0)
    listener = SmtpListener("127.0.0.1", free_port(), sink, 1 << 20, answer_seconds=10)
    listener.start()
    try:
        mails = [  # as mail relays send them: CRLF line ends
            (ALERT_FIXTURES / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            for name in (
                "refine_failure_qp_crlf.eml",
                "airflow_task_failed.eml",
                "data_loss_error.eml",
            )
        ]
        answered: list[object] = []

        def send(mail: bytes) -> None:
            with smtplib.SMTP("127.0.0.1", listener.port, timeout=20) as client:
                answered.append(client.sendmail("a@example.org", ["opsweek@example.org"], mail))

        began = time.monotonic()
        threads = [threading.Thread(target=send, args=(m,)) for m in mails]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answered == [{}, {}, {}]  # all accepted
        assert time.monotonic() - began < 5  # concurrently, not 3 x 2 s one after the other
    finally:
        listener.stop()
    store.close()


@pytest.mark.integration
def test_imap_oversized_and_refused_messages_do_not_block_the_mailbox(tmp_path: Path) -> None:
    from tests.services.dovecot import dovecot

    store = open_store(f"sqlite:///{tmp_path / 'imap.db'}")
    changes = AlertChanges(store)
    refused_once: list[str] = []

    def sink(raw: RawInput) -> None:
        if b"refuse me" in raw.content and not refused_once:
            refused_once.append(raw.origin)
            raise ValueError("a message the intake cannot take")
        changes.take(raw)

    with dovecot() as server:
        client = server.client()
        client.append("INBOX", b"Subject: refuse me\r\n\r\nbody\r\n")
        client.append(
            "INBOX", b"Subject: Refine failures for job refine_event\r\n\r\n" + b"x" * 5000
        )
        client.append("INBOX", (ALERT_FIXTURES / "airflow_task_failed.eml").read_bytes())
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
            max_bytes=2000,
        )
        assert poller.poll_once() == 2  # the refused one is set aside, the others stored
        assert poller.poll_once() == 0
    with store.session() as session:
        raws = session.scalars(select(RawInputRow).order_by(RawInputRow.id)).all()
        assert len(raws) == 2
        oversized = raws[0]
        assert b"only its headers were kept" in oversized.content and len(oversized.content) < 2000
        kinds = sorted(a.kind for a in session.scalars(select(Alert)))
        assert kinds == ["airflow_task_failed", "refine_failure"]  # the headers still said
    store.close()
