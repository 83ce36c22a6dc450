"""``opsweek alerts`` as a user types it."""

from __future__ import annotations

from pathlib import Path

from tests.alerts.helpers import ALERT_FIXTURES
from tests.conftest import Cli


def test_ingest_directory_then_list_show_ack_resolve(cli: Cli) -> None:
    counts = cli.json("alerts", "ingest", ALERT_FIXTURES)
    assert set(counts) >= {"received", "new", "updated", "unparsed"}
    assert counts["unparsed"] == 2 and counts["new"] >= 20
    listed = cli.json("alerts", "list")["alerts"]
    assert len(listed) == counts["new"]
    first = listed[0]
    for key in (
        "id",
        "source",
        "kind",
        "title",
        "status",
        "fingerprint",
        "count",
        "first_seen",
        "last_seen",
        "acked_by",
        "details",
    ):
        assert key in first
    groups = cli.json("alerts", "list", "--group")["groups"]
    assert sum(len(g["alerts"]) for g in groups) == len(listed) > len(groups)
    assert cli.json("alerts", "list", "--since", "2100-01-01")["alerts"] == []
    assert len(cli.json("alerts", "list", "--since", "1000w")["alerts"]) == len(listed)
    refine = cli.json("alerts", "list", "--kind", "refine_failure", "--status", "open")
    assert len(refine["alerts"]) == 6
    alert_id = refine["alerts"][0]["id"]
    shown = cli.json("alerts", "show", alert_id)
    assert shown["runbook"] and {"text", "command"} <= set(shown["runbook"][0])
    assert shown["history"][0]["action"] == "created"
    cli.ok("alerts", "ack", alert_id)
    cli.ok("alerts", "note", alert_id, "rerunning now")
    resolved = cli.json("alerts", "resolve", alert_id, "--note", "reran the hour; OK")
    assert resolved["status"] == "resolved" and resolved["acked_by"] == "tester"
    history = cli.json("alerts", "show", alert_id)["history"]
    assert [(h["actor"], h["action"]) for h in history][1:] == [
        ("tester", "acked"),
        ("tester", "note"),
        ("tester", "resolved"),
    ]
    text = cli.ok("alerts", "show", alert_id, "--raw").stdout
    assert "Runbook" in text and "Refine failures for path" in text


def test_ack_by_someone_else_and_errors(cli: Cli) -> None:
    cli.ok("alerts", "ingest", ALERT_FIXTURES / "airflow_task_failed.eml")
    assert cli.json("alerts", "ack", "1", "--by", "ann")["acked_by"] == "ann"
    again = cli("alerts", "ack", "1")
    assert again.exit_code == 2 and "already acknowledged by ann" in again.stderr
    missing = cli("alerts", "show", "42")
    assert missing.exit_code == 2 and "no alert 42" in missing.stderr
    huge = cli("alerts", "show", str(2**64))  # found by schemathesis: once an OverflowError
    assert huge.exit_code == 2 and f"no alert {2**64}" in huge.stderr
    no_note = cli("alerts", "resolve", "1")
    assert no_note.exit_code == 2
    bad = cli("alerts", "list", "--status", "burning")
    assert bad.exit_code == 2 and "unknown status" in bad.stderr


def test_ingest_stdin_and_mbox(cli: Cli, tmp_path: Path) -> None:
    data = (ALERT_FIXTURES / "alertmanager_firing.json").read_text()
    result = cli("alerts", "ingest", "-", "--json", input=data)
    assert result.exit_code == 0 and result.json()["new"] == 3
    mbox = tmp_path / "alerts.mbox"
    parts = []
    for name in ("refine_failure.eml", "airflow_sla_miss.eml", "unknown.eml"):
        body = (ALERT_FIXTURES / name).read_bytes().replace(b"\r\n", b"\n")
        parts.append(b"From MAILER-DAEMON Thu Jan  4 10:00:00 2024\n" + body + b"\n")
    mbox.write_bytes(b"".join(parts))
    counts = cli.json("alerts", "ingest", mbox)
    assert (counts["inputs"], counts["received"], counts["unparsed"]) == (3, 5, 1)


def test_ingest_missing_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    result = cli("alerts", "ingest", tmp_path / "nope.eml")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    bad = cli("alerts", "ingest", tmp_path, "--format", "fax")
    assert bad.exit_code == 2 and "unknown --format" in bad.stderr


def test_token_create_list_revoke(cli: Cli) -> None:
    created = cli.json("token", "create", "alertmanager-bot", "--name", "alertmanager")
    assert created["token"].startswith("ow_")
    listed = cli.json("token", "list")["tokens"]
    assert listed[0]["username"] == "alertmanager-bot" and "token" not in listed[0]
    assert created["token"] not in cli.ok("token", "list").stdout
    cli.ok("token", "revoke", str(created["id"]))
    assert cli.json("token", "list")["tokens"][0]["revoked_at"]
    assert cli("token", "revoke", str(created["id"])).exit_code == 2
