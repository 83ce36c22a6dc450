"""The checks on the embedded default (DuckDB over Parquet, local files): each finds its planted
situations and only those, produces the change, and sends its alert through the inbox."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from time_machine import TimeMachineFixture

from opsweek.adapters.fs import Files
from opsweek.adapters.warehouse import DuckDBWarehouse
from opsweek.alerts.changes import AlertChanges
from opsweek.checks import canary
from opsweek.checks.allowlist import lint_allowlist
from opsweek.checks.emit import emit
from opsweek.checks.mw_history import expected_snapshot, scan_snapshots
from opsweek.checks.new_wikis import check_new_wikis
from opsweek.db.models import Alert
from opsweek.db.session import Store
from opsweek.errors import BadInput
from tests.checks.fixtures import (
    ALLOWLIST,
    GROUPED,
    canary_hours,
    schema_dir,
    snapshot_tree,
    unexpected_values,
)
from tests.conftest import Cli
from tests.services.http_stub import Reply, stub_server

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
TABLE = "wmf.pageview_unexpected_values"
FLAGS = ["_SUCCESS", "_CHECKED", "_PARTITIONED"]


def test_allowlist_lint_reports_lines() -> None:
    text = (
        "project\taa.wikibooks\t2015-10-12 00:00:00\n"
        "project aa.wiktionary 2015-10-12 00:00:00\n"
        "project\tab.wikipedia\n"
        "colour\tred\t2015-10-12 00:00:00\n"
        "project\taa.wikibooks\t2015-10-12 00:00:00\n"
        "project\tace.wikipedia\t2015-13-40 00:00:00\n"
    )
    assert [str(p) for p in lint_allowlist(text)] == [
        "line 2: spaces instead of tabs",
        "line 3: expected 3 tab-separated columns, found 2",
        "line 4: unknown field 'colour' (expected project, agent_type, access_method)",
        "line 5: duplicate of line 1: project aa.wikibooks",
        "line 6: bad date '2015-13-40 00:00:00'",
    ]
    assert lint_allowlist(ALLOWLIST) == []


def replicas(tmp_path: Path) -> str:
    """Real SQLite databases standing for replicas: azywiki has tables, tlywiki has none."""
    with sqlite3.connect(tmp_path / "azywiki.db") as db:
        db.execute("CREATE TABLE revision (rev_id INTEGER)")
    sqlite3.connect(tmp_path / "tlywiki.db").close()
    return f"sqlite:///{tmp_path}/{{wiki}}.db"


def test_new_wikis_on_duckdb(tmp_path: Path) -> None:
    from opsweek.adapters.replicas import table_count

    warehouse = tmp_path / "warehouse"
    unexpected_values(warehouse)
    url = replicas(tmp_path)
    result = check_new_wikis(
        DuckDBWarehouse(warehouse),
        TABLE,
        ALLOWLIST,
        GROUPED,
        date(2026, 11, 25),
        date(2026, 11, 27),
        NOW,
        lambda wiki: table_count(url, wiki),
    )
    found = {c.project: (c.dbname, c.views, c.days, c.replica) for c in result.candidates}
    assert found == {
        "azy.wikipedia": ("azywiki", 420, 2, "ready"),
        "tly.wikipedia": ("tlywiki", 55, 2, "not replicated"),
        "zz.notawiki": (None, 3, 1, "not a wiki project name"),
    }
    added = [
        ln
        for ln in result.allowlist_diff.splitlines()
        if ln.startswith("+") and not ln.startswith("+++")
    ]
    assert added == [
        "+project\tazy.wikipedia\t2026-11-28 08:00:00",
        "+project\ttly.wikipedia\t2026-11-28 08:00:00",
    ]
    assert "\t" in added[0] and " " not in added[0].split("\t")[1]  # tabs guaranteed
    assert result.grouped_diff.splitlines()[-1] == "+azywiki,3,0"  # last group, ready only
    commands = {s.id: s for s in result.steps if s.command}
    assert commands["put"].command.endswith(
        "hdfs dfs -put -f allowlist.tsv "
        "/wmf/refinery/current/static_data/pageview/allowlist/allowlist.tsv"
    )
    assert commands["chmod"].command.endswith(
        "-chmod +r /wmf/refinery/current/static_data/pageview/allowlist/allowlist.tsv"
    )
    assert commands["write"].command == (
        "opsweek check new-wikis --date 2026-11-27 --days 3 --write"
    )
    # one day only: nothing new on the 25th but azy
    only = check_new_wikis(
        DuckDBWarehouse(warehouse),
        TABLE,
        ALLOWLIST,
        GROUPED,
        date(2026, 11, 25),
        date(2026, 11, 25),
        NOW,
    )
    assert [c.project for c in only.candidates] == ["azy.wikipedia"]
    assert only.candidates[0].replica == "not checked" and only.grouped_diff == ""


def test_a_refusing_replica_is_one_error_and_others_still_checked(tmp_path: Path) -> None:
    from opsweek.adapters.replicas import table_count
    from tests.services.common import free_port

    warehouse = tmp_path / "warehouse"
    unexpected_values(warehouse)
    url = f"mysql+pymysql://root@127.0.0.1:{free_port()}/{{wiki}}"
    result = check_new_wikis(
        DuckDBWarehouse(warehouse),
        TABLE,
        ALLOWLIST,
        GROUPED,
        date(2026, 11, 25),
        date(2026, 11, 27),
        NOW,
        lambda wiki: table_count(url, wiki, timeout=2),
    )
    assert len(result.errors) == 2 and all("replica of" in e for e in result.errors)
    assert result.allowlist_diff  # the allowlist change is still produced
    assert result.grouped_diff == ""  # nothing goes to sqoop without a checked replica


def test_malformed_allowlist_is_refused_with_its_line(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    unexpected_values(warehouse)
    bad = "project\taa.wikibooks\t2015-10-12 00:00:00\nproject x.wikipedia 2015-10-12 00:00:00\n"
    with pytest.raises(BadInput, match="allowlist: line 2: spaces instead of tabs"):
        check_new_wikis(
            DuckDBWarehouse(warehouse),
            TABLE,
            bad,
            GROUPED,
            date(2026, 11, 25),
            date(2026, 11, 27),
            NOW,
        )


def test_mw_history_snapshot_states(tmp_path: Path, store: Store) -> None:
    files = Files((tmp_path / "hdfs").as_uri())
    base = "/wmf/data/wmf/mediawiki"
    assert expected_snapshot(date(2026, 1, 3)) == "2025-12"
    # October complete; November partial (history not yet _PARTITIONED) with a checker error
    snapshot_tree(
        tmp_path / "hdfs",
        "2026-10",
        {d: FLAGS for d in ("history", "user_history", "page_history")}
        | {"history_reduced": ["_SUCCESS"]},
    )
    tree = snapshot_tree(
        tmp_path / "hdfs",
        "2026-11",
        {"history": ["_SUCCESS", "_CHECKED"], "user_history": FLAGS, "page_history": FLAGS},
    )
    (tree / "history/snapshot=2026-11/_CHECKER_ERRORS").write_text(
        "\n3 wikis have 12% fewer revisions than last month\n"
    )
    (tree / "history/snapshot=latest").mkdir()
    early = scan_snapshots(files, base, date(2026, 12, 3), late_day=5)
    assert (early.ready, early.late, early.newest.snapshot) == (False, False, "2026-10")  # type: ignore[union-attr]
    assert early.expected_state.missing == ["history/_PARTITIONED", "history_reduced/_SUCCESS"]  # type: ignore[union-attr]
    assert early.unexpected_names == ["/wmf/data/wmf/mediawiki/history/snapshot=latest"]
    assert early.expected_state.errors == [  # type: ignore[union-attr]
        "history/snapshot=2026-11/_CHECKER_ERRORS: 3 wikis have 12% fewer revisions than last month"
    ]
    late = scan_snapshots(files, base, date(2026, 12, 8), late_day=5)
    assert late.late
    october = scan_snapshots(files, base, date(2026, 11, 2), late_day=5)
    assert october.ready and not october.late
    with store.writing() as session:
        emit(AlertChanges(store), session, late.findings(), NOW)
        emit(AlertChanges(store), session, october.findings(), NOW)
        kinds = {a.kind: a.status for a in session.scalars(select(Alert))}
    assert kinds == {
        "mediawiki_history_late": "firing",
        "mediawiki_history_checker_error": "firing",
        "mediawiki_history_available": "firing",
    }


def test_canary_events_like_eventgate(tmp_path: Path) -> None:
    schemas, problems = canary.load_schemas(schema_dir(tmp_path / "schemas"))
    assert problems == []
    streams = {
        "eventlogging_HomepageVisit": "analytics/legacy/homepagevisit",
        "eventlogging_NavigationTiming": "analytics/legacy/navigationtiming",
        "test.noexamples": "analytics/test/noexamples",
        "test.brokenref": "/analytics/test/brokenref/1.0.0",
        "test.unknown": "analytics/nope",
    }
    results = {r.stream: r for r in canary.check_streams(schemas, streams)}
    assert {s: r.status for s, r in results.items()} == {
        "eventlogging_HomepageVisit": "example invalid",
        "eventlogging_NavigationTiming": "ok",
        "test.noexamples": "no examples",
        "test.brokenref": "broken schema",
        "test.unknown": "broken schema",
    }
    homepage = results["eventlogging_HomepageVisit"]
    assert homepage.errors == [
        {
            "keyword": "required",
            "dataPath": ".event",
            "schemaPath": "#/properties/event/required",
            "params": {"missingProperty": "start_tutorial_state"},
            "message": "should have required property 'start_tutorial_state'",
        }
    ]
    assert homepage.errors_text == "'.event' should have required property 'start_tutorial_state'"
    event = results["eventlogging_NavigationTiming"].event
    assert event is not None
    assert event["meta"] == {"stream": "eventlogging_NavigationTiming", "domain": "canary"}
    assert "unresolvable $ref" in results["test.brokenref"].errors[0]["message"]


@pytest.mark.parametrize(
    ("status", "body", "ok", "summary"),
    [
        (201, {}, True, "accepted"),
        (202, {}, True, "accepted (hasty)"),
        (
            207,
            {
                "invalid": [
                    {"context": {"errorsText": "'.event' should have required property 'x'"}}
                ],
                "error": [],
            },
            False,
            "partly accepted: 1 invalid, 0 errored: '.event' should have required property 'x'",
        ),
        (
            400,
            {"invalid": [{"context": {"errorsText": "'.meta' bad"}}]},
            False,
            "all invalid: '.meta' bad",
        ),
        (
            500,
            {"invalid": [], "error": [{"context": {"message": "kafka down"}}]},
            False,
            "all failed: kafka down",
        ),
    ],
)
def test_intake_answers(status: int, body: dict, ok: bool, summary: str) -> None:
    assert canary.interpret_post(status, body) == (ok, summary)


def test_canary_cli_posts_and_finds_hours_without_events(
    cli: Cli, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    schemas = schema_dir(tmp_path / "schemas")
    monkeypatch.setenv("OPSWEEK_FILES_ROOT", (tmp_path / "hdfs").as_uri())
    canary_hours(
        tmp_path / "hdfs/user/hive/warehouse", [h for h in range(24) if h not in (3, 4, 17)]
    )
    streams = tmp_path / "streams.yaml"
    streams.write_text(
        "streams:\n  eventlogging_NavigationTiming:\n"
        "    schema_title: analytics/legacy/navigationtiming\n"
    )
    posted: list[list] = []

    def eventgate(request):  # type: ignore[no-untyped-def]
        posted.append(json.loads(request.body))
        return Reply({"invalid": [], "error": []}, 201)

    with stub_server({"v1": eventgate}) as gate:
        result = cli(
            "check",
            "canary",
            "--schemas",
            schemas,
            "--streams",
            streams,
            "--post",
            f"{gate.url}/v1",
            "--coverage",
            "event.homepagevisit",
            "--date",
            "2026-11-27",
            "--json",
        )
    data = result.json()
    assert result.exit_code == 1  # hours without events
    assert data["posted"] == {"status": 201, "ok": True, "summary": "accepted", "events": 1}
    assert data["hours_without_events"] == [3, 4, 17]
    [[sent]] = posted  # one array with the one valid canary event
    assert sent["meta"] == {"stream": "eventlogging_NavigationTiming", "domain": "canary"}
    assert [s["status"] for s in data["streams"]] == ["ok"]
    every = cli("check", "canary", "--schemas", schemas, "--json")
    assert every.exit_code == 1
    statuses = {s["stream"]: s["status"] for s in every.json()["streams"]}
    assert statuses["analytics/legacy/homepagevisit"] == "example invalid"
    assert "fragment/common" not in statuses
    alerts = cli.json("alerts", "list", "--kind", "canary_schema_problem")["alerts"]
    assert {a["details"]["stream"] for a in alerts} == {
        "analytics/legacy/homepagevisit",
        "analytics/test/noexamples",
        "analytics/test/brokenref",
    }


def test_new_wikis_cli_writes_a_branch_and_opens_duties(
    cli: Cli, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    repo = tmp_path / "refinery"
    (repo / "static_data/pageview/allowlist").mkdir(parents=True)
    (repo / "static_data/mediawiki").mkdir(parents=True)
    allowlist = repo / "static_data/pageview/allowlist/allowlist.tsv"
    grouped = repo / "static_data/mediawiki/grouped_wikis.csv"
    allowlist.write_text(ALLOWLIST)
    grouped.write_text(GROUPED)
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "init"], check=True)
    unexpected_values(tmp_path / "hdfs/user/hive/warehouse")
    monkeypatch.setenv("OPSWEEK_FILES_ROOT", (tmp_path / "hdfs").as_uri())
    monkeypatch.setenv("OPSWEEK_CHECKS_REPLICA_URL", replicas(tmp_path))
    result = cli(
        "check",
        "new-wikis",
        "--date",
        "2026-11-27",
        "--days",
        "3",
        "--allowlist",
        allowlist,
        "--grouped-wikis",
        grouped,
        "--write",
        "--json",
    )
    assert result.exit_code == 1, result.stderr
    data = result.json()
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--format=%s", "-1"], capture_output=True, text=True
    ).stdout
    branch = subprocess.run(
        ["git", "-C", str(repo), "branch", "--show-current"], capture_output=True, text=True
    ).stdout
    assert log.strip() == "Add new wikis: azywiki, tlywiki, zz.notawiki"
    assert branch.strip() == "new-wikis-2026-11-27" and data["commit"]
    assert "azy.wikipedia" in allowlist.read_text() and grouped.read_text().endswith(
        "azywiki,3,0\n"
    )
    assert lint_allowlist(allowlist.read_text()) == []
    [alert] = cli.json("alerts", "list", "--kind", "new_wiki_candidates")["alerts"]
    assert alert["details"]["ready"] == ["azywiki"]
    duties = cli.json("duties", "list")["duties"]
    assert [d["detail"] for d in duties if d["duty"] == "new-wiki"] == [{"wiki": "azywiki"}]
    lint = cli("check", "allowlist", allowlist, "--json")
    assert lint.exit_code == 0 and lint.json()["problems"] == []


def test_scheduled_checks_and_the_mw_history_cli(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: datetime
) -> None:
    from opsweek.app import App
    from opsweek.config import load_settings
    from opsweek.db.session import open_store
    from opsweek.demo.checks import seed_checks

    hdfs = tmp_path / "hdfs"
    today = now.date()
    toml = seed_checks(
        hdfs, "/user/hive/warehouse", "/wmf/data/wmf/mediawiki", tmp_path / "c", today
    )
    config = tmp_path / "opsweek.toml"
    config.write_text(f'[files]\nroot = "{hdfs.as_uri()}"\n' + toml)
    settings = load_settings(config, env={"OPSWEEK_DATA_DIR": str(tmp_path / "data")})
    store = open_store(settings.database_url)
    run = App(settings, store=store).checks.scheduled()
    assert (run.failed, run.ran) == ([], ["mw-history", "refine", "verify", "new-wikis"])
    assert run.not_configured == {"dumps": "not configured: set dumps.root"}
    with store.session() as session:
        kinds = sorted(a.kind for a in session.scalars(select(Alert)))
    store.close()
    assert kinds == ["mediawiki_history_available", "new_wiki_candidates"]
    monkeypatch.setenv("OPSWEEK_DATA_DIR", str(tmp_path / "data"))
    assert cli.json("--config", config, "check", "scheduled")["failed"] == []  # a timer's run
    config.write_text(config.read_text().replace(hdfs.as_uri(), (tmp_path / "gone").as_uri()))
    gone = cli("--config", config, "check", "scheduled", "--json")
    assert gone.exit_code == 2 and gone.json()["failed"]
    config.write_text(config.read_text().replace((tmp_path / "gone").as_uri(), hdfs.as_uri()))
    data = cli.json("--config", config, "check", "mw-history")
    assert data["ready"] is True and data["late"] is False and data["missing_flags"] == []
    broken = tmp_path / "hdfs/wmf/data/wmf/mediawiki/history/snapshot=2026-99"
    broken.mkdir()
    again = cli("--config", config, "check", "mw-history", "--no-alert", "--json")
    assert again.json()["unexpected_names"] == ["/wmf/data/wmf/mediawiki/history/snapshot=2026-99"]


def test_an_empty_setup_opens_no_alert_by_itself(
    cli: Cli, time_machine: TimeMachineFixture
) -> None:
    """Issue 28: `opsweek serve` on an empty setup opened a "MediaWiki history snapshot … is
    late" alert by itself. A check whose inputs are not configured does nothing, and says so."""
    time_machine.move_to(datetime(2026, 12, 20, 12, 0, tzinfo=UTC), tick=False)  # late by then
    run = cli.json("check", "scheduled")
    assert run["not_configured"]["mw-history"].startswith("not configured: set files.root")
    assert "new-wikis" in run["not_configured"] and "dumps" in run["not_configured"]
    assert run["ran"] == ["refine", "verify"] and run["failed"] == []
    assert cli.json("alerts", "list")["alerts"] == []
