"""No test reads the clock but through the `now` fixture (tests/conftest.py), so a whole run
can move it (OPSWEEK_TEST_CLOCK) and a test written today passes on any date. Waiting for
something uses `time.monotonic()`; `time.time()` orders moments within a test (the page
cache's), never as a date."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import moved_clock

TESTS = Path(__file__).parent
# the conftest defines the fixture; the services' helpers wait on their servers (tests/services)
ALLOWED = {TESTS / "conftest.py", Path(__file__)}
CLOCK_READS = re.compile(
    r"\b(?:datetime\.now|datetime\.utcnow|datetime\.today|date\.today|utcnow)\("
)


def clock_reads(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if CLOCK_READS.search(line)]


def test_no_test_reads_the_clock_but_through_the_now_fixture() -> None:
    found = {
        str(path.relative_to(TESTS)): reads
        for path in sorted(TESTS.rglob("*.py"))
        if path not in ALLOWED
        and "services" not in path.relative_to(TESTS).parts
        and (reads := clock_reads(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_guard_sees_each_way_of_reading_the_clock() -> None:
    for read in (
        "at = datetime.now(UTC)",
        "day = date.today()",
        "moment = utcnow() - delta",
        "x = datetime.utcnow()",
    ):
        assert clock_reads(read) == [read]
    assert clock_reads("started = time.monotonic()\nnow = fixed_now()\nt = time.time()") == []


def test_the_clock_moves_by_days_or_to_a_moment() -> None:
    today = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert moved_clock("+400d", today) == datetime(2028, 1, 11, 10, 0, tzinfo=UTC)
    assert moved_clock("2031-02-03T04:05", today) == datetime(2031, 2, 3, 4, 5, tzinfo=UTC)
