"""Fixtures: an isolated data directory per test, the CLI runner, the clock, and the store on
SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from opsweek.cli import app
from opsweek.db.session import Store, open_store
from tests.services.postgres import PostgresServer, start_postgres

FIXTURES = Path(__file__).parent / "fixtures"
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Hypothesis: few examples in CI (the suite stays fast), more by hand, many on demand:
# HYPOTHESIS_PROFILE=long scripts/test tests/alerts
settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=150, deadline=None)
settings.register_profile("long", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if CI else "dev"))


# The clock. No test reads it but through the `now` fixture (tests/test_clock.py holds that);
# the code under test reads it as it always does. OPSWEEK_TEST_CLOCK moves it for a whole run,
# "+400d" days ahead of today or to an ISO 8601 moment, and lets it tick from there: CI runs the
# unit tests a second time a year and more ahead (scripts/test), so a test that passes only
# near the day it was written fails at once, not weeks later. Servers the integration tests
# start keep the real clock, so that run leaves them out.
CLOCK = os.environ.get("OPSWEEK_TEST_CLOCK", "").strip()
_travel: time_machine.travel | None = None


def moved_clock(value: str, today: datetime) -> datetime:
    """Where OPSWEEK_TEST_CLOCK moves the clock: ``+Nd`` days after ``today``, or a moment."""
    ahead = re.fullmatch(r"\+(\d{1,5})d", value)
    if ahead:
        return today + timedelta(days=int(ahead[1]))
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    global _travel
    if CLOCK and _travel is None:  # before collection: module-level code sees the moved clock
        _travel = time_machine.travel(moved_clock(CLOCK, datetime.now(UTC)), tick=True)
        _travel.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    global _travel
    if _travel is not None:
        _travel.stop()
        _travel = None


def pytest_report_header(config: pytest.Config) -> str | None:
    return (
        f"clock moved to {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (OPSWEEK_TEST_CLOCK)"
        if (CLOCK)
        else None
    )


@pytest.fixture
def now() -> datetime:
    """This test's "now" (UTC, to the second): the only way a test reads the clock."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data directory and no stray configuration."""
    for name in list(__import__("os").environ):
        if name.startswith("OPSWEEK_"):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("OPSWEEK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("OPSWEEK_USER", "tester")
    monkeypatch.chdir(tmp_path)
    return data_dir


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


class Cli:
    """Runs ``opsweek`` in-process, as a user would type it."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        result = self.runner.invoke(
            app, [str(a) for a in args], input=input, catch_exceptions=False
        )
        return Result(result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    def json(self, *args: str) -> dict:
        return self.ok(*args, "--json").json()


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    yield from start_postgres()


_databases = itertools.count()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"opsweek_test_{next(_databases)}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return server.url(name)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = open_store(database_url)
    yield store
    store.close()
