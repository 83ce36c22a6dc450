"""The change marker: any commit to the store, from any connection or process, changes it."""

from __future__ import annotations

from opsweek.db.commit_marker import change_marker
from opsweek.db.session import Store, open_store
from opsweek.sal.log import SalLog


def test_a_commit_elsewhere_changes_the_marker(store: Store, database_url: str) -> None:
    marker = change_marker(store.engine)
    try:
        before = marker.current()
        assert before is not None
        with store.session() as session:
            SalLog(session).search("refine_event")  # a read commits nothing
        if store.engine.dialect.name == "sqlite":
            # (PostgreSQL's WAL also moves with vacuum and other databases of the cluster)
            assert marker.current() == before
        before = marker.current()
        other = open_store(database_url)  # another engine: as another process would write
        with other.session() as session:
            SalLog(session).append("ana", "reran refine_event")
        other.close()
        after = marker.current()
        assert after is not None and after != before
        with store.session() as session:  # and a commit through the same store
            SalLog(session).append("ana", "reran it again")
        assert marker.current() not in (None, after)
    finally:
        marker.close()


def test_an_in_memory_store_has_no_marker() -> None:
    store = open_store("sqlite://")
    assert change_marker(store.engine).current() is None
    store.close()
