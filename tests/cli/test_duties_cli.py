"""`opsweek today`, `duties`, `handoff`, `decision` and `remind` as a user types them."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli
from tests.services.common import free_port
from tests.services.smtp import smtp_server


def test_today_on_the_demo(cli: Cli) -> None:
    cli.ok("demo")
    data = cli.json("today")
    assert data["on_duty"]["person"]
    assert data["alerts"]["firing"] >= len(data["firing"]) > 0
    assert data["tasks"] is None and data["unanswered_questions"] is None
    assert any(d["duty"] == "offboarding" for d in data["duties"])
    text = cli.ok("today").stdout
    assert "On duty:" in text and "Duties" in text and "Offboard a departed user" in text


def test_duties_done_skip_step_start(cli: Cli) -> None:
    started = cli.json("duties", "start", "new-wiki", "--set", "wiki=azywiki", "--note", "T360100")
    assert started["status"] == "due" and started["detail"] == {"wiki": "azywiki"}
    ticked = cli.json("duties", "step", str(started["id"]), "1")
    assert ticked["steps"][0]["done_by"] == "tester"
    done = cli.json("duties", "done", "new-wiki", "--note", "added", "--alert", "3")
    assert done["status"] == "done" and done["alerts"] == [3] and "added" in done["note"]
    again = cli("duties", "done", str(done["id"]))
    assert again.exit_code == 2 and "already done" in again.stderr
    assert cli("duties", "start", "alarms").exit_code == 2
    assert cli("duties", "skip", "new-wiki", "--reason", "x").exit_code == 2  # none open
    bad = cli("duties", "start", "offboarding", "--set", "nonsense")
    assert bad.exit_code == 2 and "name=value" in bad.stderr
    sal = cli.json("sal", "list")["entries"]
    assert [e["message"].split(":")[0] for e in sal][:3] == [
        f"duty #{done['id']} done",
        f"duty #{done['id']} Add a new wiki to the allowlist and the sqoop list",
        f"started duty #{done['id']}",
    ]
    listed = cli.json("duties", "list")
    assert [d["status"] for d in listed["duties"] if d["id"] == done["id"]] == ["done"]
    schedule = cli.json("duties", "schedule")["duties"]
    assert {d["key"] for d in schedule} >= {"alarms", "deployment-train", "handoff"}


def test_a_malformed_cron_is_one_clear_error(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "opsweek.toml").write_text('[[duties]]\nkey = "alarms"\ncron = "0 25 * * *"\n')
    result = cli("today")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: duties entry 1 (alarms): invalid cron expression '0 25 * * *'"
    )


def test_handoff_formats(cli: Cli, tmp_path: Path) -> None:
    cli.ok("demo")
    md = cli.ok("handoff").stdout
    assert md.startswith("# Ops week handoff, week of ")
    for section in ("## Still open", "## Alerts of the week, by kind", "## Duties", "## Noise"):
        assert section in md
    data = cli.json("handoff")
    assert data["figures"]["alerts"] >= 1
    cli.ok("handoff", "--format", "html", "-o", str(tmp_path / "h.html"))
    assert (tmp_path / "h.html").read_text().startswith("<!doctype html>")
    assert cli("handoff", "--format", "pdf").exit_code == 2
    assert cli("handoff", "--week", "2099-01-01").exit_code == 2
    failed = cli("handoff", "--publish", "email")
    assert failed.exit_code == 1 and "mail.smtp_host is not set" in failed.stderr


def test_decision_is_mailed_or_kept(cli: Cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPSWEEK_MAIL_ALERTS_LIST", "alerts@example.org")
    monkeypatch.setenv("OPSWEEK_MAIL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OPSWEEK_MAIL_SMTP_PORT", str(free_port()))
    down = cli("decision", "Not deploying this week")
    assert down.exit_code == 2
    assert "the decision is kept" in down.stderr and "opsweek decisions send 1" in down.stderr
    [kept] = cli.json("decisions", "list")["decisions"]
    assert kept["mailed_at"] is None and kept["mail_error"]
    with smtp_server() as (port, inbox):
        monkeypatch.setenv("OPSWEEK_MAIL_SMTP_PORT", str(port))
        assert cli.json("decisions", "send", "1")["sent_now"] is True
        assert cli.json("decisions", "send", "1")["sent_now"] is False
        mailed = cli.json("decision", "Won't fix the flaky canary for mediawiki.page_change")
    assert mailed["mailed_at"] is not None
    assert len(inbox.messages) == 2
    offline = cli.json("decision", "--no-mail", "Keeping the old allowlist")
    assert offline["mailed_at"] is None


def test_remind_outside_the_lead_time_sends_nothing(cli: Cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPSWEEK_DUTIES_REMINDER_HOURS", "0")  # never within the lead time
    data = cli.json("remind", "--via", "email")
    assert data == {"due": False, "results": []}
    assert cli("remind", "--via", "pigeon").exit_code == 2


def test_the_demo_sets_up_a_deployment_train(cli: Cli) -> None:
    config = cli.json("demo")["demo_config"]
    assert config and Path(config).is_file()
    result = cli("--config", config, "train", "status", "--json")
    assert result.exit_code == 1
    pending = {p["project"]: p["pending"] for p in result.json()["projects"]}
    assert pending == {"refinery": 3, "airflow-dags": 2}


def test_today_says_how_each_airflow_instance_was_last_polled(cli: Cli, tmp_path: Path) -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "opsweek.toml").write_text(
        f'[[airflow.instances]]\nname = "gone"\nurl = "{gone}"\n'
        '[[airflow.instances]]\nname = "later"\nurl = "http://127.0.0.1:9"\n'
    )
    polled = cli("airflow", "poll", "--instance", "gone")
    assert polled.exit_code == 1
    assert f"could not poll airflow gone ({gone}): unreachable" in polled.stdout
    airflow = {p["instance"]: p for p in cli.json("today")["airflow"]}
    assert airflow["gone"]["error"].startswith(f"airflow gone ({gone}): unreachable")
    assert airflow["gone"]["polled_at"] and airflow["gone"]["url"] == gone
    assert airflow["later"] == {
        "instance": "later",
        "url": "http://127.0.0.1:9",
        "polled_at": None,
        "failing": None,
        "error": None,
    }
    text = cli.ok("today").stdout
    assert "Airflow" in text and "gone: could not poll at" in text
    assert "later: not polled yet" in text
