"""Moving a team's store from SQLite to a real PostgreSQL: every row, checked; the copy is a
store opsweek works on; a store that is not empty is never written to."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.service import AlertFilter, Inbox
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.copy import copy_store
from opsweek.db.session import make_engine, open_store
from opsweek.demo import seed
from opsweek.errors import BadInput
from opsweek.sal.log import SalLog
from tests.conftest import Cli
from tests.services.postgres import PostgresServer

pytestmark = pytest.mark.integration
_names = itertools.count()


def new_database(postgres: PostgresServer) -> str:
    name = f"opsweek_copy_{next(_names)}"
    admin = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return postgres.url(name)


def test_a_sqlite_store_moves_to_postgresql(
    postgres: PostgresServer, tmp_path: Path, now: datetime
) -> None:
    url = f"sqlite:///{tmp_path / 'team.db'}"
    store = open_store(url)
    ops = App(load_settings(env={}))
    with store.writing() as session:
        seed(AlertChanges(store), session, ops.rotation_config, now)
        for n in range(300):
            SalLog(session).append("ann", f"reran refine_event hour {n}", source="cli")
    store.close()
    target_url = new_database(postgres)
    source, target = make_engine(url), make_engine(target_url)
    copied = copy_store(source, target)
    source.dispose()
    target.dispose()
    assert copied.counts["sal_entries"] > 300 and copied.counts["alerts"] > 10
    assert copied.compared > 100

    moved = open_store(target_url)
    with moved.session() as session:
        assert len(SalLog(session).search("refine_event")) == 50  # the newest 50, by full text
        assert len(Inbox(session).list(AlertFilter(limit=100))) == copied.counts["alerts"]
        entry = SalLog(session).append("ann", "the first entry on PostgreSQL", source="cli")
        assert entry.id > copied.counts["sal_entries"]  # the ids go on after the copied ones
    moved.close()

    source, target = make_engine(url), make_engine(target_url)
    with pytest.raises(BadInput, match="not empty"):
        copy_store(source, target)
    source.dispose()
    target.dispose()


def test_the_command_names_no_password(
    cli: Cli, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("log", "before the move")
    target = new_database(postgres).replace("opsweek@", "opsweek:secret-pw@")
    done = cli.json("db", "copy", "--to", target)
    assert done["counts"]["sal_entries"] == 1 and "secret-pw" not in str(done)
    monkeypatch.setenv("OPSWEEK_DATABASE_URL", target)
    assert [e["message"] for e in cli.json("sal", "list")["entries"]] == ["before the move"]
