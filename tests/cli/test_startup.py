"""A command loads only what it uses: `import opsweek.cli` (what `opsweek --version` and
`--help` pay) pulls in no heavy library, and `opsweek who` reads the rotation without the ORM,
Alembic or a Typer that parses options through pydantic (benchmarks/startup.py has the times)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEAVY = (
    "ibis",
    "duckdb",
    "pyarrow",
    "pyspark",
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "irc",
    "jsonschema",
    "asyncssh",
    "slack_sdk",
    "httpx",
    "alembic",
    "argon2",
    "jinja2",
    "icalendar",
    "fsspec",
)


def imported_by(args: list[str], env: dict[str, str]) -> set[str]:
    """The top-level names of the modules a run of ``python args`` imported (-X importtime)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    names = set()
    for line in run.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_importing_the_cli_loads_nothing_heavy(tmp_path: Path) -> None:
    modules = imported_by(["-c", "import opsweek.cli"], {**os.environ})
    assert "opsweek.cli.rotation" in modules  # what the top-level commands need
    assert "opsweek.cli.alerts" not in modules  # a group no top-level command needs: when used
    assert heavy_in(modules) == []
    assert not {m for m in modules if m.startswith("sqlalchemy")}


def test_who_reads_the_rotation_without_the_orm(tmp_path: Path) -> None:
    env = {**os.environ, "OPSWEEK_DATA_DIR": str(tmp_path)}
    env.pop("OPSWEEK_CONFIG", None)
    upgrade = [sys.executable, "-m", "opsweek", "db", "upgrade"]  # a new store is migrated once
    subprocess.run(upgrade, env=env, check=True, capture_output=True, timeout=120)
    modules = imported_by(["-m", "opsweek", "who", "--at", "2026-11-30T12:00"], env)
    assert "opsweek.rotation.on_duty" in modules
    assert heavy_in(modules) == []
    assert "sqlalchemy.orm" not in modules and "opsweek.db.models" not in modules
