"""The CLI as a user types it: JSON shapes, exit codes, one-line errors, store unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from opsweek import __version__
from opsweek.cli import app
from tests.conftest import FIXTURES, Cli


def setup_team(cli: Cli) -> None:
    cli.ok("team", "import", FIXTURES / "team.csv")
    cli.ok("team", "import", FIXTURES / "team.toml")


def test_version(cli: Cli) -> None:
    assert cli.ok("--version").stdout.strip() == f"opsweek {__version__}"


def test_team_add_list_remove(cli: Cli) -> None:
    added = cli.json(
        "team",
        "add",
        "zoe",
        "--name",
        "Zoé Ä",
        "--email",
        "zoe@example.org",
        "--irc",
        "zoe",
        "--timezone",
        "Asia/Kolkata",
    )
    assert added["timezone"] == "Asia/Kolkata"
    assert [p["username"] for p in cli.json("team", "list")["people"]] == ["zoe"]
    assert "Zoé Ä" in cli.ok("team", "list").stdout
    cli.ok("team", "remove", "zoe")
    assert cli.json("team", "list")["people"] == []
    assert cli.json("team", "list", "--all")["people"][0]["active"] is False
    cli.ok("team", "add", "zoe", "--timezone", "UTC")  # someone coming back
    assert cli.json("team", "list")["people"][0]["active"] is True


def test_import_people_and_away(cli: Cli) -> None:
    counts = cli.json("team", "import", FIXTURES / "team.csv")
    assert (counts["kind"], counts["added"]) == ("people", 4)
    assert cli.json("team", "import", FIXTURES / "team.csv")["updated"] == 4
    away = cli.json("team", "import", FIXTURES / "team-calendar.ics")
    assert (away["kind"], away["added"]) == ("away", 4)
    assert cli.json("team", "import", FIXTURES / "team-calendar.ics")["skipped"] == 4
    listed = cli.json("team", "away-list", "--since", "2026-01-01")["away"]
    assert {
        "username": "ana",
        "start": "2026-12-21",
        "end": "2027-01-01",
        "reason": "ana - vacation",
    } in listed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["team", "add", "bob", "--timezone", "Mars/Olympus"], "unknown timezone"),
        (["team", "add", "../bob"], "invalid username"),
        (
            ["team", "away", "ana", "--from", "2026-05-10", "--to", "2026-05-01"],
            "end 2026-05-01 is before start 2026-05-10",
        ),
        (
            ["team", "away", "nobody", "--from", "2026-05-01", "--to", "2026-05-02"],
            "unknown user 'nobody'",
        ),
        (["team", "away", "ana", "--from", "May 1st", "--to", "2026-05-02"], "invalid --from"),
        (["team", "remove", "nobody"], "unknown user"),
        (["rotation", "swap", "2026-01-01", "2026-01-08"], "nobody assigned"),
        (["who", "--at", "yesterday"], "invalid time"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli: Cli, args: list[str], message: str) -> None:
    setup_team(cli)
    before = cli.json("team", "list")
    result = cli(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert cli.json("team", "list") == before


def test_malformed_csv_line_is_reported_and_nothing_imported(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "team.csv"
    bad.write_text(
        "username,name,email,irc_nick,timezone\nok,Ok,ok@example.org,ok,UTC\nbroken,Broken\n"
    )
    result = cli("team", "import", bad)
    assert result.exit_code == 2
    assert "line 3" in result.stderr
    assert cli.json("team", "list")["people"] == []


def test_plan_show_who_json_shapes(cli: Cli) -> None:
    setup_team(cli)
    plan = cli.json("rotation", "plan", "--weeks", "10")
    assert len(plan["weeks"]) == 10
    first = plan["weeks"][0]
    assert set(first) >= {"start", "end", "person"}
    assert first["start"].endswith("Z")
    shown = cli.json("rotation", "show")["weeks"]
    assert [w["person"] for w in shown] == [w["person"] for w in plan["weeks"]]
    who = cli.json("who")
    assert who["person"] == plan["weeks"][0]["person"]
    assert who["next"] == plan["weeks"][1]["person"]
    assert (who["start"], who["end"]) == (first["start"], first["end"])
    later = cli.json("who", "--at", plan["weeks"][3]["start"])
    assert later["person"] == plan["weeks"][3]["person"]
    text = cli.ok("who").stdout
    assert "is on duty until" in text and "next:" in text


def test_replanning_keeps_published_weeks(cli: Cli) -> None:
    setup_team(cli)
    first = cli.json("rotation", "plan", "--weeks", "12")["weeks"]
    cli.ok("team", "add", "newbie", "--timezone", "Europe/Paris")
    second = cli.json("rotation", "plan", "--weeks", "12")
    assert [w["person"] for w in second["weeks"][:8]] == [w["person"] for w in first[:8]]
    assert all(w["published"] for w in second["weeks"][:8])
    assert "newbie" in {w["person"] for w in second["weeks"][8:]}


def test_new_vacation_in_published_week_is_a_conflict(cli: Cli) -> None:
    setup_team(cli)
    weeks = cli.json("rotation", "plan", "--weeks", "8")["weeks"]
    target = weeks[2]
    day = target["week"]
    result = cli.json(
        "team", "away", target["person"], "--from", day, "--to", day, "--reason", "vacation"
    )
    assert [c["week"] for c in result["conflicts"]] == [day]
    suggestion = result["conflicts"][0]["suggestion"]
    assert suggestion["command"].startswith(f"opsweek rotation {suggestion['action']} {day}")
    conflicts = cli("rotation", "conflicts")
    assert conflicts.exit_code == 1
    assert "vacation" in conflicts.stdout
    # the person stays assigned until someone acts on the suggestion
    assert cli.json("rotation", "show")["weeks"][2]["person"] == target["person"]
    if suggestion["action"] == "swap":
        cli.ok("rotation", "swap", day, suggestion["other_week"])
    else:
        cli.ok("rotation", "cover", day, "--by", suggestion["person"])
    assert cli("rotation", "conflicts").exit_code == 0
    history = cli.json("rotation", "history")["changes"]
    assert history[0]["action"] == suggestion["action"] and history[0]["actor"] == "tester"


def test_swap_onto_a_vacation_is_refused(cli: Cli) -> None:
    setup_team(cli)
    weeks = cli.json("rotation", "plan", "--weeks", "6")["weeks"]
    a, b = weeks[1], weeks[4]
    cli.ok("team", "away", a["person"], "--from", b["week"], "--to", b["week"])
    result = cli("rotation", "swap", a["week"], b["week"])
    assert result.exit_code == 2
    assert f"{a['person']} cannot take the week of {b['week']}" in result.stderr
    assert cli.json("rotation", "show")["weeks"][1]["person"] == a["person"]


def test_no_eligible_person_exits_2_and_writes_nothing(cli: Cli, now: datetime) -> None:
    cli.ok("team", "add", "solo", "--timezone", "UTC")
    start = now.date() + timedelta(days=21)
    cli.ok(
        "team",
        "away",
        "solo",
        "--from",
        start.isoformat(),
        "--to",
        (start + timedelta(days=30)).isoformat(),
    )
    result = cli("rotation", "plan", "--weeks", "10")
    assert result.exit_code == 2
    assert "no eligible person for the week of" in result.stderr
    assert "solo" in result.stderr
    assert cli.json("rotation", "show")["weeks"] == []


def test_ics_export_is_importable_and_dst_correct(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSWEEK_TEAM_TIMEZONE", "Europe/Paris")
    setup_team(cli)
    cli.ok("rotation", "plan", "--weeks", "30")
    out = tmp_path / "ops.ics"
    assert cli.json("rotation", "ics", "-o", out)["events"] == 30
    calendar = icalendar.Calendar.from_ical(out.read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 30
    assert calendar.walk("VTIMEZONE"), "a calendar app needs the VTIMEZONE"
    for event in events:
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert str(start.tzinfo) == "Europe/Paris" or start.tzname() in ("CET", "CEST")
        assert (start.weekday(), start.hour, start.minute) == (3, 9, 0)
        assert (end.weekday(), end.hour) == (3, 9)
        assert event["SUMMARY"].startswith("Ops week: ")
    durations = {
        e.decoded("DTEND").astimezone(UTC) - e.decoded("DTSTART").astimezone(UTC) for e in events
    }
    assert len(durations) >= 2, "30 weeks cross a DST change, so one week is 167 or 169 hours"
    person = cli.json("rotation", "show")["weeks"][0]["person"]
    mine = cli.json("rotation", "ics", "--person", person)
    assert 0 < mine["events"] < 30 and "BEGIN:VCALENDAR" in mine["ics"]


def test_config_show_masks_secrets(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSWEEK_DATABASE_URL", "sqlite:////tmp/never-opened.db")
    shown = cli.json("config", "show")
    assert shown["settings"]["rotation.handoff_weekday"] == "thursday"
    assert shown["sources"]["database_url"] == "env"
    monkeypatch.setenv("OPSWEEK_DATABASE_URL", "postgresql+psycopg://u:hunter2@127.0.0.1/x")
    assert "hunter2" not in cli.ok("config", "show", "--json").stdout
    assert "hunter2" not in cli.ok("config", "show").stdout


def test_config_show_lists_the_table_lists(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "opsweek.toml").write_text(
        '[[airflow.instances]]\nname = "analytics"\nurl = "https://a:hunter2@airflow.example.org"\n'
        'user = "opsweek"\npassword_env = "AIRFLOW_PASSWORD"\n'
    )
    shown = cli.json("config", "show")["tables"]
    assert shown == {
        "airflow.instances": [
            {
                "name": "analytics",
                "url": "https://a:********@airflow.example.org",
                "user": "opsweek",
                "password_env": "AIRFLOW_PASSWORD",
            }
        ]
    }
    text = cli.ok("config", "show").stdout
    assert "[[airflow.instances]] (1)" in text and "hunter2" not in text


def test_bad_config_file_exits_2(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "opsweek.toml").write_text("[team]\ntimezone = 'Nowhere/City'\n")
    result = cli("who")
    assert result.exit_code == 2
    assert "unknown timezone 'Nowhere/City'" in result.stderr


def test_db_upgrade_and_status(cli: Cli) -> None:
    upgraded = cli.json("db", "upgrade")
    assert upgraded["from"] is None and upgraded["to"]
    assert cli.json("db", "upgrade")["from"] == upgraded["to"]
    assert cli.json("db", "status")["up_to_date"] is True


def test_demo_builds_a_team_and_a_rotation(cli: Cli) -> None:
    result = cli.json("demo")
    assert result["created"] is True
    assert (result["people"], result["away"]) == (8, 5)
    people = cli.json("team", "list")["people"]
    assert len({p["timezone"].split("/")[0] for p in people}) == 2
    assert len({p["timezone"] for p in people}) >= 3
    assert cli.json("who")["person"] is not None
    assert cli.json("demo")["created"] is False
    text = cli.ok("demo", "--reset").stdout
    assert "Try next" in text and "opsweek who" in text


def _commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    import click
    import typer.main

    click_group = typer.main.get_command(group) if prefix == () else group
    ctx = click.Context(click_group)  # type: ignore[arg-type]
    found = []
    for name in click_group.list_commands(ctx):  # type: ignore[attr-defined]
        command = click_group.get_command(ctx, name)  # type: ignore[attr-defined]
        if hasattr(command, "list_commands"):
            found += _commands(command, (*prefix, name))
        else:
            found.append(((*prefix, name), command))
    return found


ROOT = Path(__file__).parents[2]


def hand_written_docs() -> str:
    """The README and the documentation site's pages written by hand (not the reference the
    code makes, which names every command anyway)."""
    pages = [ROOT / "README.md"] + [
        p for p in sorted((ROOT / "docs").glob("*.md")) if p.name not in GENERATED
    ]
    return "\n".join(p.read_text(encoding="utf-8") for p in pages)


GENERATED = {"changelog.md", "architecture.md"}


def test_every_command_has_json_help_and_is_documented(cli: Cli) -> None:
    docs = hand_written_docs()
    commands = _commands(app)
    assert len(commands) >= 15
    for path, command in commands:
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert "--json" in options, f"opsweek {' '.join(path)} has no --json"
        assert f"opsweek {' '.join(path)}" in docs, f"document opsweek {' '.join(path)}"
        helped = cli(*path, "--help")  # its help renders (no stray markup in it)
        assert helped.exit_code == 0 and "Usage" in helped.stdout, (path, helped.stderr)


def test_team_password(cli: Cli) -> None:
    cli.ok("team", "add", "ann")
    short = cli("team", "password", "ann", "--stdin", input="short\n")
    assert short.exit_code == 2 and "at least 12 characters" in short.stderr
    result = cli("team", "password", "ann", "--stdin", "--json", input="correct horse battery\n")
    assert result.exit_code == 0 and result.json() == {"username": "ann", "password_set": True}
    assert cli("team", "password", "nobody", "--stdin", input="x" * 20 + "\n").exit_code == 2
