"""One holder of each piece of scheduled work, on both stores; the work moves when the holder
lets go (a process that dies lets go too: the kernel or PostgreSQL drops its lock)."""

from __future__ import annotations

from opsweek.db.leadership import Leadership, lock_key
from opsweek.db.session import make_engine


def test_one_holder_at_a_time_and_the_next_takes_over(database_url: str) -> None:
    engine = make_engine(database_url)
    first, second = Leadership(engine, "checks"), Leadership(engine, "checks")
    other_job = Leadership(engine, "airflow")
    assert first.held() and first.held()  # asked again: still ours
    assert not second.held()
    assert other_job.held()  # a lock per job
    first.release()
    assert second.held() and not first.held()
    second.release()
    other_job.release()
    engine.dispose()


def test_keys_are_stable_and_distinct() -> None:
    assert lock_key("checks") == lock_key("checks") != lock_key("airflow")
    assert -(2**63) <= lock_key("irc-bot") < 2**63
