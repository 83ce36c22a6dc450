"""``opsweek log`` and ``opsweek sal`` as a user types them; every mutating command leaves an
entry."""

from __future__ import annotations

from pathlib import Path

from tests.alerts.helpers import ALERT_FIXTURES
from tests.conftest import FIXTURES, Cli

WIKI = """== 2024-01-03 ==
* 08:05 joal: deployed refinery to hdfs
* 07:40 milimetric: reran refine_event for event.mediawiki_foo (T123456)

== 2024-01-02 ==
* 19:30 ottomata: restarted eventgate-analytics to flush the schema cache
"""


def test_log_list_search_wiki(cli: Cli) -> None:
    entry = cli.json("log", "reran refine_event for event.mediawiki_foo (T123456)")
    assert entry["nick"] == "tester" and entry["project"] == "analytics"
    assert {"kind": "task", "value": "T123456"} in entry["refs"]
    cli.ok("log", "<b>restarted</b> hive", "--nick", "joal", "--project", "analytics-dumps")
    fix = cli.json(
        "log", "correction: it was refine_eventlogging_analytics", "--corrects", str(entry["id"])
    )
    assert fix["corrects"] == entry["id"]
    listed = cli.json("sal", "list")["entries"]
    assert [e["nick"] for e in listed] == ["tester", "joal", "tester"]
    assert cli.json("sal", "list", "--nick", "joal")["entries"][0]["message"] == (
        "<b>restarted</b> hive"
    )
    found = cli.json("sal", "search", "refine_event")["entries"]
    assert [e["id"] for e in found] == [entry["id"]]
    wiki = cli.ok("sal", "wiki").stdout
    assert wiki.startswith("== ") and ": &#60;b&#62;restarted&#60;/b&#62; hive" in wiki  # wikitext


def test_bad_log_input(cli: Cli) -> None:
    empty = cli("log", "\x02\x02")
    assert empty.exit_code == 2 and "empty" in empty.stderr
    missing = cli("log", "fix", "--corrects", "99")
    assert missing.exit_code == 2 and "no SAL entry 99" in missing.stderr
    search = cli("sal", "search", "   ")
    assert search.exit_code == 2


def test_import_wiki(cli: Cli, tmp_path: Path) -> None:
    page = tmp_path / "sal.txt"
    page.write_text(WIKI)
    assert cli.json("sal", "import", page) == {"read": 3, "added": 3, "skipped": 0}
    assert cli.json("sal", "import", page)["skipped"] == 3
    day = cli.ok("sal", "wiki", "--day", "2024-01-03").stdout
    assert day == WIKI.split("\n\n")[0] + "\n"
    page.write_text("== 2024-01-03 ==\nnot an entry\n")
    bad = cli("sal", "import", page)
    assert bad.exit_code == 2 and "SAL line 2" in bad.stderr


def test_mutating_commands_leave_sal_entries(cli: Cli) -> None:
    cli.ok("team", "import", FIXTURES / "team.csv")
    weeks = cli.json("rotation", "plan", "--weeks", "4")["weeks"]
    cli.ok("rotation", "swap", weeks[0]["week"], weeks[2]["week"])
    cli.ok("rotation", "cover", weeks[3]["week"], "--by", weeks[1]["person"], "--allow-consecutive")
    cli.ok("alerts", "ingest", ALERT_FIXTURES / "refine_failure.eml")
    cli.ok("alerts", "ack", "1")
    cli.ok("alerts", "note", "1", "rerunning")
    cli.ok("alerts", "resolve", "1", "--note", "reran the hour")
    messages = [e["message"] for e in cli.json("sal", "list")["entries"]][::-1]
    assert messages[0].startswith("team: imported people from team.csv")
    assert messages[4].startswith("ingested 3 alert(s) from")
    messages = messages[1:4] + messages[5:]
    assert messages[0].startswith("rotation: planned 4 weeks")
    assert messages[1].startswith("rotation: swapped")
    assert messages[2].startswith("rotation: ") and "covers" in messages[2]
    assert messages[3] == (
        "acked alert 1 (refine_failure refine_event: event.mediawiki_foo 2024-01-02T03)"
    )
    assert messages[4].startswith("note on alert 1") and messages[5].endswith("reran the hour")
    shown = cli.json("alerts", "show", "1")
    assert shown["related_sal"][0]["message"].startswith("resolved alert 1")
    listed = {a["id"]: a["has_related_sal"] for a in cli.json("alerts", "list")["alerts"]}
    assert listed[1] is True


def test_team_token_and_ingest_commands_leave_entries(cli: Cli) -> None:
    steps = [
        (("team", "add", "zoe", "--timezone", "UTC"), "team: added zoe"),
        (
            ("team", "away", "zoe", "--from", "2030-01-01", "--to", "2030-01-02"),
            "team: zoe away 2030-01-01 to 2030-01-02",
        ),
        (("team", "import", FIXTURES / "team.csv"), "team: imported people from team.csv"),
        (("team", "remove", "zoe"), "team: removed zoe"),
        (("token", "create", "bot"), "created API token 1 for bot"),
        (("token", "revoke", "1"), "revoked API token 1"),
        (("alerts", "ingest", ALERT_FIXTURES / "airflow_sla_miss.eml"), "ingested 1 alert(s)"),
    ]
    for args, expected in steps:
        cli.ok(*args)
        newest = cli.json("sal", "list", "--limit", "1")["entries"][0]
        assert newest["message"].startswith(expected), (args, newest["message"])
        assert newest["nick"] == "tester" and newest["source"] == "opsweek"
    token = cli.json("token", "create", "bot2")["token"]
    assert token not in cli.ok("sal", "wiki").stdout  # token values never reach the SAL
