"""One writer at a time across processes (`Store.writing`), and WAL checkpoints from a thread
for `opsweek serve`."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from opsweek.alerts.changes import AlertChanges
from opsweek.db.models import Alert, SalEntry
from opsweek.db.session import Store, open_store
from opsweek.sal.log import SalLog
from tests.alerts.helpers import ALERT_FIXTURES, raw_inputs


def test_writers_take_turns_in_one_process(store: Store) -> None:
    order: list[str] = []
    first_in = threading.Event()
    release = threading.Event()

    def first() -> None:
        with store.writing() as session:
            SalLog(session).append("ana", "first writer")
            order.append("first in")
            first_in.set()
            release.wait(10)
            order.append("first out")

    def second() -> None:
        first_in.wait(10)
        with store.writing() as session:
            order.append("second in")
            count = session.scalar(select(func.count()).select_from(SalEntry))
            order.append(f"saw {count}")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_in.wait(10)
    time.sleep(0.3)  # the second writer is waiting now
    assert order == ["first in"]
    release.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first in", "first out", "second in", "saw 1"]  # it saw the commit


def test_alert_changes_take_turns_with_other_writers(store: Store) -> None:
    """Every change of alert state takes the writing turn by itself."""
    changes = AlertChanges(store)
    changes.ingest(raw_inputs("airflow_task_failed.eml"))
    entered = threading.Event()
    release = threading.Event()
    acked: list[str] = []

    def other_writer() -> None:
        with store.writing() as session:
            SalLog(session).append("ana", "holding the turn")
            entered.set()
            release.wait(10)

    def ack() -> None:
        entered.wait(10)
        acked.append(changes.ack(1, "bob").status)

    threads = [threading.Thread(target=other_writer), threading.Thread(target=ack)]
    for thread in threads:
        thread.start()
    entered.wait(10)
    time.sleep(0.3)
    assert acked == []  # still waiting for its turn
    release.set()
    for thread in threads:
        thread.join(10)
    assert acked == ["acknowledged"]


def test_alert_changes_refuse_a_session_without_the_turn(store: Store) -> None:
    with store.session() as session, pytest.raises(RuntimeError, match=r"Store\.writing"):
        AlertChanges(store).ingest(raw_inputs("refine_failure.eml"), session=session)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 0


def test_another_process_waits_for_the_writer(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'opsweek.db'}")
    env = {**os.environ, "OPSWEEK_DATA_DIR": str(tmp_path), "OPSWEEK_CONFIG": ""}
    command = [sys.executable, "-m", "opsweek", "alerts", "ingest", "--json"]
    with store.writing() as session:
        session.execute(text("SELECT 1"))
        ingest = subprocess.Popen(
            [*command, str(ALERT_FIXTURES / "refine_failure.eml")],
            env=env,
            stdout=subprocess.PIPE,
        )
        time.sleep(3)  # long enough for the CLI to start and reach the lock
        assert ingest.poll() is None, "the CLI wrote while another writer had its turn"
    assert ingest.wait(30) == 0
    store.close()


def test_background_checkpoints(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'opsweek.db'}")
    checkpointer = store.checkpoint_in_background(interval=0.05)
    assert checkpointer is not None
    try:
        with store.session() as session:
            assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
            for number in range(200):
                SalLog(session).append("ana", f"entry {number}")
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints < 2:
            assert time.monotonic() < deadline, "no checkpoint ran"
            time.sleep(0.05)
    finally:
        checkpointer.stop()
    assert not checkpointer.is_alive()
    assert open_store("sqlite://").checkpoint_in_background() is None  # nothing to do
    store.close()
