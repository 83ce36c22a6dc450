"""`opsweek init` writes a team's opsweek.toml and its secrets apart; `opsweek doctor` tries
every connection it configures and names the ones that do not work; Today's connections
panel says how each one last went."""

from __future__ import annotations

import json
import socket
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from opsweek.app import App
from opsweek.config import load_settings
from opsweek.config.settings import read_env_file
from opsweek.errors import ConfigError
from opsweek.watch.readings import connections, keep_connection
from opsweek.web import create_app
from tests.conftest import Cli
from tests.services.common import free_port


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    return free_port()


def init_args(tmp_path: Path, *more: str) -> list[str]:
    return [
        "init",
        "--path",
        str(tmp_path / "team" / "opsweek.toml"),
        "--timezone",
        "Europe/Paris",
        "--person",
        "ana:Ana Lyst",
        "--person",
        "bob:Bob Ops:America/New_York",
        "--imap",
        f"alerts@127.0.0.1:{closed_port()}/Alerts",
        "--alertmanager",
        f"http://127.0.0.1:{closed_port()}",
        "--airflow",
        f"analytics=http://admin@127.0.0.1:{closed_port()}",
        "--base-url",
        "https://opsweek.example.org",
        *more,
    ]


def test_init_writes_the_toml_and_its_secrets_apart(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    said = cli.json(*init_args(tmp_path))
    toml, env = tmp_path / "team" / "opsweek.toml", tmp_path / "team" / "opsweek.env"
    assert said["config"] == str(toml) and said["env"] == str(env)
    assert said["people"] == ["ana", "bob"]
    assert said["to_fill"] == ["OPSWEEK_INTAKE_IMAP_PASSWORD", "AIRFLOW_ANALYTICS_PASSWORD"]
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert "PASSWORD" not in toml.read_text().replace('"AIRFLOW_ANALYTICS_PASSWORD"', "")
    # the secrets filled in by hand, as the guide says: read from opsweek.env, not the TOML
    env.write_text(env.read_text().replace("IMAP_PASSWORD=", "IMAP_PASSWORD=s3cret-imap"))
    settings = load_settings(toml, env={})
    assert settings.team_timezone == "Europe/Paris"
    assert settings.intake.imap_folder == "Alerts" and settings.intake.imap_user == "alerts"
    assert settings.intake.imap_password == "s3cret-imap"
    assert "s3cret-imap" not in json.dumps(settings.shown())
    assert [e["name"] for e in settings.tables_shown()["airflow.instances"]] == ["analytics"]
    assert settings.data_dir == tmp_path / "team" / "opsweek-data"  # not the demo's
    team = cli.json("--config", str(toml), "team", "list")
    assert {p["username"]: p["timezone"] for p in team["people"]} == {
        "ana": "UTC",
        "bob": "America/New_York",
    }


def test_init_refuses_to_overwrite_and_bad_answers(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    cli.json(*init_args(tmp_path))
    toml = tmp_path / "team" / "opsweek.toml"
    before = toml.read_text()
    again = cli(*init_args(tmp_path), "--json")
    assert again.exit_code == 2 and "--force overwrites it" in again.stderr
    assert toml.read_text() == before
    for bad in (
        ["--airflow", "no-url"],
        ["--runner", "an-launcher1002"],
        ["--imap", "nouser"],
        ["--timezone", "Mars/Olympus"],
        ["--person", "ana"],
    ):
        result = cli(*init_args(tmp_path), "--force", *bad, "--json")
        assert result.exit_code == 2, bad
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert toml.read_text() == before


def test_a_secrets_file_others_can_read_is_refused(tmp_path: Path) -> None:
    env = tmp_path / "opsweek.env"
    env.write_text("# comment\nOPSWEEK_TRACKER_TOKEN='api-x'\nEMPTY=\n")
    env.chmod(0o600)
    assert read_env_file(env) == {"OPSWEEK_TRACKER_TOKEN": "api-x"}
    env.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        read_env_file(env)


def test_doctor_names_what_does_not_work_and_why(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    cli.json(*init_args(tmp_path, "--smtp-listen", f"127.0.0.1:{closed_port()}"))
    toml = str(tmp_path / "team" / "opsweek.toml")
    result = cli("--config", toml, "doctor", "--json")
    assert result.exit_code == 1
    found = {c["name"]: c for c in result.json()["connections"]}
    assert set(found) == {
        "store",
        "imap",
        "smtp listener",
        "alertmanager main",
        "airflow analytics",
    }
    assert found["store"]["ok"] and "(current), writable" in found["store"]["said"]
    assert found["smtp listener"]["ok"] and "free" in found["smtp listener"]["said"]
    for name in ("imap", "alertmanager main", "airflow analytics"):
        assert not found[name]["ok"] and "refused" in found[name]["said"].lower(), found[name]
    text = cli("--config", toml, "doctor")
    assert text.exit_code == 1 and "FAIL imap" in text.stdout and "ok   store" in text.stdout
    # doctor changed nothing: no alert, no SAL entry
    assert cli.json("--config", toml, "alerts", "list")["alerts"] == []
    assert cli.json("--config", toml, "sal", "list")["entries"] == []


def test_doctor_with_the_defaults_checks_the_store_only(cli: Cli) -> None:
    said = cli.json("doctor")
    assert said["ok"] is True and [c["name"] for c in said["connections"]] == ["store"]


def test_the_smtp_listener_port_held_by_something_else_is_named(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        monkeypatch.setenv("OPSWEEK_INTAKE_SMTP_LISTEN", f"127.0.0.1:{holder.getsockname()[1]}")
        result = cli("doctor", "--json")
    assert result.exit_code == 1
    listener = next(c for c in result.json()["connections"] if c["name"] == "smtp listener")
    assert not listener["ok"] and listener["said"], listener


def test_todays_connections_panel(
    tmp_path: Path, now: datetime, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPSWEEK_DATA_DIR")  # the data directory opsweek.toml names
    (tmp_path / "team").mkdir()
    cli.json(*init_args(tmp_path))
    toml = tmp_path / "team" / "opsweek.toml"
    ops = App(load_settings(toml, env={}))
    try:
        assert ops.connection_names() == ["imap", "alertmanager main", "airflow analytics"]
        with ops.session() as session:
            keep_connection(session, "imap", now - timedelta(hours=2), None)
            keep_connection(session, "imap", now, "[AUTHENTICATIONFAILED] Authentication failed.")
            keep_connection(session, "alertmanager main", now, None)
        with ops.session() as session:
            found = {c.name: c for c in connections(session, ops.connection_names())}
        assert found["imap"].failing and found["imap"].ok_at == now - timedelta(hours=2)
        assert not found["alertmanager main"].failing
        assert found["airflow analytics"].ok_at is None and not found["airflow analytics"].failing
        today = cli.json("--config", str(toml), "today")
        assert [c["name"] for c in today["connections"] if c["error"]] == ["imap"]
        printed = cli.ok("--config", str(toml), "today").stdout
        assert "1 failing" in printed and "AUTHENTICATIONFAILED" in printed
        with TestClient(create_app(ops)) as client:
            page = client.get("/").text
        needs = page[page.index('id="now"') : page.index("</section>", page.index('id="now"'))]
        assert "1</strong> connection failing" in needs and "AUTHENTICATIONFAILED" in needs
        assert "not acknowledged" in needs or "no alert waits" in needs
    finally:
        ops.close()
