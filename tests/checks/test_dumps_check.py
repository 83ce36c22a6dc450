"""The public dumps' status files (realistic ones in tests/fixtures/dumps: a failed job, a
stalled wiki, one not started, a file that shrank) make alerts through the inbox, with the
runbook's steps; a clean run resolves them. Read from a directory and over HTTP."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from time_machine import TimeMachineFixture

from opsweek.app import App
from opsweek.checks import dumps
from opsweek.config import load_settings
from opsweek.db.alert_reads import OPEN, newest_alerts
from opsweek.db.models import Alert
from opsweek.db.session import Store
from opsweek.errors import ConfigError
from tests.conftest import Cli

FIXTURES = Path(__file__).parents[1] / "fixtures" / "dumps"
RUN = date(2026, 12, 1)
LIMITS = dumps.Limits(stall_hours=24, expected_days=14, size_drop_percent=30)


def status(wiki: str, run: str) -> dumps.WikiRun | None:
    path = FIXTURES / wiki / run / "dumpstatus.json"
    return dumps.parse_status(wiki, run, path.read_bytes()) if path.exists() else None


def found_at(now: datetime) -> list[dumps.Finding]:
    wikis = dumps.wikis_of_index((FIXTURES / "index.json").read_bytes())
    current = {w: status(w, "20261201") for w in wikis}
    previous = {w: status(w, "20261120") for w in wikis}
    return dumps.findings(RUN, current, previous, now, LIMITS)


def test_the_status_files_say_what_is_wrong() -> None:
    found = {(f.kind, f.key): f for f in found_at(datetime(2026, 12, 5, 0, 0, tzinfo=UTC))}
    assert set(found) == {
        ("dumps_job_failed", "enwiki/20261201/metahistorybz2dump"),
        ("dumps_wiki_stalled", "dewiki/20261201"),  # in progress, unmoved since the 3rd
        ("dumps_wiki_stalled", "frwiki/20261201"),  # no status file for this run
        ("dumps_file_shrunk", "enwiki/20261201/enwiki-20261201-page.sql.gz"),
    }
    failed = found[("dumps_job_failed", "enwiki/20261201/metahistorybz2dump")]
    assert failed.details["files"] == [
        "enwiki-20261201-pages-meta-history1.xml-p1p812.bz2",
        "enwiki-20261201-pages-meta-history2.xml-p813p1910.bz2",
    ]
    shrunk = found[("dumps_file_shrunk", "enwiki/20261201/enwiki-20261201-page.sql.gz")]
    assert (shrunk.details["previous_size"], shrunk.details["drop_percent"]) == (2401938211, 54)
    assert found[("dumps_wiki_stalled", "frwiki/20261201")].details["reason"] == "not started"
    late = [f for f in found_at(datetime(2026, 12, 16, tzinfo=UTC)) if f.kind == "dumps_run_late"]
    assert [f.details["unfinished"] for f in late] == [["dewiki", "enwiki", "frwiki"]]


def test_status_files_are_read_as_far_as_they_go() -> None:
    odd = json.dumps(
        {
            "jobs": {
                "pagetable": {"status": "done", "files": {"a.sql.gz": {"size": "big"}}},
                "broken": "not a job",
                "xmlstubsdump": {"updated": "yesterday"},
            }
        }
    ).encode()
    run = dumps.parse_status("aawiki", "20261201", odd)
    assert set(run.jobs) == {"pagetable", "xmlstubsdump"}
    assert run.jobs["pagetable"].files[0].size is None
    assert run.jobs["xmlstubsdump"].status == "unknown" and run.last_update is None
    for bad in (b"<html>", b"[]", b'{"jobs": 3}'):
        with pytest.raises(ValueError):
            dumps.parse_status("aawiki", "20261201", bad)


def test_runs_start_on_the_1st_and_the_20th() -> None:
    assert dumps.run_of(date(2026, 12, 19)) == date(2026, 12, 1)
    assert dumps.run_of(date(2026, 12, 20)) == date(2026, 12, 20)
    assert dumps.previous_run(date(2026, 12, 1)) == date(2026, 11, 20)
    assert dumps.previous_run(date(2027, 1, 20)) == date(2027, 1, 1)


def app_for(store: Store, root: str) -> App:
    env = {"OPSWEEK_DUMPS_ROOT": root, "OPSWEEK_DUMPS_STALL_HOURS": "24"}
    return App(load_settings(env=env), store=store)


def open_keys(store: Store) -> set[str]:
    with store.session() as session:
        alerts = newest_alerts(session, Alert.kind.in_(dumps.KINDS), status=OPEN)
        return {a.details["key"] for a in alerts}


def test_findings_are_alerts_and_a_clean_run_resolves_them(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "dumps"
    shutil.copytree(FIXTURES, root)
    ops = app_for(store, str(root))
    at = datetime(2026, 12, 5, tzinfo=UTC)
    first = ops.checks.dumps(RUN, now=at)
    assert first.wikis == ["aawiki", "dewiki", "enwiki", "frwiki"] and not first.unreadable
    assert open_keys(store) == {f.key for f in first.findings}
    # the failed job is rerun and done; frwiki starts; the page table is dumped again, whole
    path = root / "enwiki" / "20261201" / "dumpstatus.json"
    body = json.loads(path.read_text())
    body["jobs"]["metahistorybz2dump"]["status"] = "done"
    page = body["jobs"]["pagetable"]["files"]["enwiki-20261201-page.sql.gz"]
    page["size"] = 2411938211
    path.write_text(json.dumps(body))
    (root / "frwiki" / "20261201").mkdir()
    (root / "frwiki" / "20261201" / "dumpstatus.json").write_text(
        json.dumps(
            {"jobs": {"pagetable": {"status": "in-progress", "updated": "2026-12-04 22:00:00"}}}
        )
    )
    second = ops.checks.dumps(RUN, now=at)
    assert open_keys(store) == {"dewiki/20261201"} == {f.key for f in second.findings}
    with store.session() as session:
        alerts = session.query(Alert).filter(Alert.kind.in_(dumps.KINDS)).all()
        resolved = {a.details.get("key") for a in alerts if a.status == "resolved"}
    assert "enwiki/20261201/metahistorybz2dump" in resolved and "frwiki/20261201" in resolved


@pytest.fixture
def http_root() -> Iterator[str]:
    handler = partial(SimpleHTTPRequestHandler, directory=str(FIXTURES))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_status_files_are_read_over_http_too(store: Store, http_root: str) -> None:
    run = app_for(store, http_root).checks.dumps(
        RUN, alert=False, now=datetime(2026, 12, 5, tzinfo=UTC)
    )
    assert {f.key for f in run.findings} == {
        f.key for f in found_at(datetime(2026, 12, 5, tzinfo=UTC))
    }


def test_check_dumps_from_the_cli(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, time_machine: TimeMachineFixture
) -> None:
    # the run of 2026-12-01 on its fourth day: late after 14 days, stalled after 100,000 h
    time_machine.move_to(datetime(2026, 12, 4, 23, 0, tzinfo=UTC), tick=False)
    monkeypatch.setenv("OPSWEEK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OPSWEEK_DUMPS_STALL_HOURS", "100000")
    failing = cli("check", "dumps", "--root", str(FIXTURES), "--run", "20261201", "--json")
    assert failing.exit_code == 1
    kinds = sorted(f["kind"] for f in json.loads(failing.stdout)["findings"])
    assert kinds == ["dumps_file_shrunk", "dumps_job_failed"]
    assert len(cli.json("alerts", "list", "--status", "open")["alerts"]) == 2
    assert (
        cli("check", "dumps", "--root", str(tmp_path / "none"), "--run", "20261201").exit_code == 2
    )
    assert cli("check", "dumps", "--root", str(FIXTURES), "--run", "2026-12-01").exit_code == 2


def test_configured_wikis_are_plain_names(store: Store) -> None:
    env = {"OPSWEEK_DUMPS_ROOT": str(FIXTURES), "OPSWEEK_DUMPS_WIKIS": "enwiki,../etc"}
    ops = App(load_settings(env=env), store=store)
    with pytest.raises(ConfigError, match=r"\.\./etc"):
        ops.checks.dumps(RUN)
