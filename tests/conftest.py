"""Fixtures: an isolated data directory per test, the CLI runner, and the store on SQLite and
on a real PostgreSQL server."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
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
