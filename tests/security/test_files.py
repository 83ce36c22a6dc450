"""The store holds password and token hashes: its file is readable by its owner only, in a
data directory only the owner can enter; FULL durability can be chosen."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from opsweek.db.session import open_store
from opsweek.errors import ConfigError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_store_is_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = open_store(f"sqlite:///{data / 'opsweek.db'}")
    with store.session() as session:
        session.execute(text("select 1"))
    store.close()
    assert mode(data) == 0o700
    assert mode(data / "opsweek.db") == 0o600
    for extra in ("opsweek.db-wal", "opsweek.db-shm"):
        if (data / extra).exists():
            assert mode(data / extra) & 0o077 == 0


def test_full_durability_can_be_chosen(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'full.db'}", synchronous="FULL")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    store.close()
    with pytest.raises(ConfigError, match="sqlite_synchronous"):
        open_store(f"sqlite:///{tmp_path / 'x.db'}", synchronous="OFF")
