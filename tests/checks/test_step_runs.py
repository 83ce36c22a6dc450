"""An alert's steps run on request (issue 30), over SSH to a real sshd on 127.0.0.1 standing for
the launcher, with the cluster's tools as recording stubs that answer like the real ones: what
runs is byte for byte the command shown; a read-only step runs at once and its output is kept
on the alert; a change runs only when listed in runner.allow_changes and confirmed, and the SAL
says who ran it; nothing runs without a runner."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import ALERTMANAGER
from opsweek.alerts.model import RawInput
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import Alert, AlertEvent, SalEntry, StepRun
from opsweek.db.session import Store
from opsweek.errors import BadInput
from opsweek.tokens import Tokens
from opsweek.web import create_app
from tests.alerts.helpers import ALERT_FIXTURES, raw_inputs
from tests.conftest import Cli
from tests.services.sshd import SshServer, sshd

pytestmark = pytest.mark.integration

LAUNCHER = "an-launcher1002.eqiad.wmnet"
SUDO = '#!/bin/sh\necho "sudo $*" >> "$STUB_LOG"\n[ "$1" = -u ] && shift 2\nexec "$@"\n'
RECORDER = """#!/bin/sh
printf '%s\\0' "$(basename "$0")" "$@" >> "$STUB_ARGV"
printf '\\n' >> "$STUB_ARGV"
"""
STUBS = {
    "sudo": SUDO,
    "kerberos-run-command": '#!/bin/sh\nshift\nexec "$@"\n',
    # hdfs fsck, as it ends its report once nothing is corrupt any more
    "hdfs": RECORDER + "echo \"The filesystem under path '/' has 0 CORRUPT files\"\n",
    # journalctl as it prints a failed unit's log
    "journalctl": RECORDER
    + 'for i in $(seq 1 5000); do echo "Dec 02 07:41:10 an-launcher1002 sqoop[4242]: $i"; done\n'
    'echo "Dec 02 07:41:11 an-launcher1002 refinery-sqoop-mediawiki-private[4242]: ERROR '
    'sqoop of cu_changes failed"\n',
    # systemctl: `show` reads what $STUB_SHOW holds (the unit's state), `status` says failed
    # a Java daemon's thread dump, as jstack -l starts one
    "jstack": RECORDER + 'echo "Full thread dump OpenJDK 64-Bit Server VM (11.0.20+8):"\n'
    "echo '\"HiveServer2-Handler-Pool: Thread-42\" #42 prio=5 tid=0x1 nid=0x2 waiting'\n",
    "tee": RECORDER + "exec cat\n",  # the file is the host's: the output is what opsweek keeps
    "systemctl": RECORDER
    + 'if [ "$2" = --property=MainPID ]; then echo 4242; exit 0; fi\n'
    + 'if [ "$1" = show ]; then cat "$STUB_SHOW"; exit 0; fi\n'
    'echo "refinery-sqoop-mediawiki-private.service - sqoop"\n'
    'echo "     Active: failed (Result: exit-code)"\n',
}


@pytest.fixture(scope="module")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("launcher")
    for name, text in STUBS.items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def launcher(stubs: Path) -> Iterator[SshServer]:
    env = {
        "PATH": f"{stubs}:/usr/bin:/bin",
        "STUB_LOG": str(stubs / "calls.log"),
        "STUB_ARGV": str(stubs / "argv.log"),
        "STUB_SHOW": str(stubs / "show.txt"),
    }
    with sshd("SetEnv " + " ".join(f"{k}={v}" for k, v in env.items()) + "\n") as server:
        yield server


def config(tmp_path: Path, server: SshServer, allow: str = "") -> Path:
    path = tmp_path / "opsweek.toml"
    path.write_text(
        f'[runner]\nallow_changes = "{allow}"\n'
        f'[[runners]]\nhost = "{LAUNCHER}"\nssh = "{server.user}@127.0.0.1:{server.port}"\n'
        f'key = "{server.client_key}"\nknown_hosts = "{server.known_hosts}"\n'
    )
    return path


def sqoop_alert(store: Store) -> int:
    AlertChanges(store).ingest(raw_inputs("systemd_timer_fail_sqoop.eml"))
    with store.session() as session:
        return int(session.scalars(select(Alert.id)).one())


def argvs(stubs: Path) -> list[list[str]]:
    records = (stubs / "argv.log").read_bytes().rstrip(b"\n").split(b"\n")
    return [[word.decode() for word in record.split(b"\0") if word] for record in records]


def last_argv(stubs: Path) -> list[str]:
    return argvs(stubs)[-1]


def test_a_read_only_step_runs_as_shown_and_its_output_is_kept(
    store: Store, tmp_path: Path, launcher: SshServer, stubs: Path
) -> None:
    ops = App(load_settings(config(tmp_path, launcher), env={}), store=store)
    alert_id = sqoop_alert(store)
    planned = ops.step_runner.plan(alert_id, "journal")
    shown = planned.step
    assert (shown.host, shown.as_whom, shown.effect) == (LAUNCHER, "root", "read")
    result = ops.step_runner.run(planned, "ana")
    assert result.ok
    assert last_argv(stubs) == shlex.split(shown.command)[1:]  # byte for byte, after sudo
    assert "ERROR sqoop of cu_changes failed" in result.output
    assert result.output_size > len(result.output) == 64 * 1024  # the end kept, size said
    with store.session() as session:
        (run,) = session.scalars(select(StepRun))
        history = [(e.actor, e.action, e.note) for e in session.scalars(select(AlertEvent))]
        sal = list(session.scalars(select(SalEntry.message)))
    assert (run.command, run.host, run.as_whom, run.actor) == (
        shown.command,
        LAUNCHER,
        "root",
        "ana",
    )
    assert ("ana", "ran", f"ran step journal on {LAUNCHER}: exit 0") in history
    assert sal == []  # a look changes nothing: nothing to log


def test_a_change_runs_only_when_allowed_and_confirmed_and_goes_to_the_sal(
    store: Store,
    tmp_path: Path,
    launcher: SshServer,
    stubs: Path,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ops = App(load_settings(config(tmp_path, launcher), env={}), store=store)
    alert_id = sqoop_alert(store)
    with pytest.raises(BadInput, match=r"reset-failed is not in runner\.allow_changes"):
        ops.step_runner.plan(alert_id, "reset-failed")
    allowed = App(load_settings(config(tmp_path, launcher, "reset-failed"), env={}), store=store)
    planned = allowed.step_runner.plan(alert_id, "reset-failed")
    with pytest.raises(BadInput, match="once its command is confirmed"):
        allowed.step_runner.run(planned, "ana")
    result = allowed.step_runner.run(planned, "ana", confirmed=planned.step.command)
    unit = planned.step.command.split()[-1]
    # then opsweek looked whether it is over (systemctl show): the change was the run before
    assert result.ok and argvs(stubs)[-2] == ["systemctl", "reset-failed", "--", unit]
    assert last_argv(stubs)[:2] == ["systemctl", "show"]
    with store.session() as session:
        sal = [(e.actor, e.message) for e in session.scalars(select(SalEntry))]
    assert sal == [("ana", f"ran {planned.step.command} on {LAUNCHER} (exit 0)")]
    # from the CLI and the API, as a person and a script would
    monkeypatch.setenv("OPSWEEK_CONFIG", str(config(tmp_path, launcher, "reset-failed")))
    monkeypatch.setenv("OPSWEEK_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    cli.ok("alerts", "ingest", ALERT_FIXTURES / "systemd_timer_fail_sqoop.eml")
    shown = cli.json("alerts", "run", "1", "status")
    assert (shown["effect"], shown["exit_status"], shown["host"]) == ("read", 0, LAUNCHER)
    asked = cli("alerts", "run", "1", "reset-failed", input="n\n")
    assert asked.exit_code == 1 and "changes things" in asked.stdout
    with allowed.store.writing() as session:
        token = Tokens(session).create("ana", "script")[1]
    with TestClient(create_app(allowed)) as client:
        bearer = {"Authorization": f"Bearer {token}"}
        url = f"/api/v1/alerts/{alert_id}/steps/reset-failed/run"
        refused = client.post(url, json={}, headers=bearer)
        assert refused.status_code == 400
        done = client.post(url, json={"confirm": planned.step.command}, headers=bearer)
        assert done.status_code == 200 and done.json()["exit_status"] == 0


def test_nothing_runs_without_a_runner(store: Store) -> None:
    ops = App(load_settings(env={}), store=store)
    alert_id = sqoop_alert(store)
    with pytest.raises(BadInput, match=f"no runner for {LAUNCHER}"):
        ops.step_runner.plan(alert_id, "journal")
    with pytest.raises(BadInput, match="has no step nonsense"):
        ops.step_runner.plan(alert_id, "nonsense")


def test_the_alert_page_runs_a_step_and_shows_what_it_said(
    store: Store, tmp_path: Path, launcher: SshServer
) -> None:
    import time

    from opsweek.passwords import set_password
    from opsweek.rotation.people import PersonRecord
    from opsweek.rotation.team import Team
    from tests.web.test_login_forms import PASSWORD, csrf_of

    ops = App(load_settings(config(tmp_path, launcher, "reset-failed"), env={}), store=store)
    alert_id = sqoop_alert(store)
    with store.writing() as session:
        Team(session).add(PersonRecord("ann", "Ann"))
        set_password(session, "ann", PASSWORD)
    with TestClient(create_app(ops)) as client:
        client.post(
            "/login",
            data={"username": "ann", "password": PASSWORD, "csrf": csrf_of(client)},
            follow_redirects=False,
        )
        page = client.get(f"/alerts/{alert_id}").text
        assert "as <strong>root</strong>" in page and "read-only" in page
        assert f"run it on {LAUNCHER}</button>" in page  # a look: one click
        assert f'href="/alerts/{alert_id}/steps/reset-failed/run">run it on' in page
        confirm = client.get(f"/alerts/{alert_id}/steps/reset-failed/run").text
        assert "sudo systemctl reset-failed -- refinery-sqoop" in confirm
        csrf = csrf_of(client, f"/alerts/{alert_id}")
        unconfirmed = client.post(f"/alerts/{alert_id}/steps/reset-failed/run", data={"csrf": csrf})
        assert unconfirmed.status_code == 400
        sent = client.post(
            f"/alerts/{alert_id}/steps/journal/run", data={"csrf": csrf}, follow_redirects=False
        )
        assert sent.status_code == 303
        deadline = time.monotonic() + 20
        while not any(r.finished_at for r in ops.step_runner.runs(alert_id)):
            assert time.monotonic() < deadline, "the step never finished"
            time.sleep(0.1)
        page = client.get(f"/alerts/{alert_id}").text
        assert "Steps run by opsweek" in page and "ERROR sqoop of cu_changes failed" in page


def test_a_timer_alert_resolves_itself_once_systemd_says_its_next_run_succeeded(
    store: Store, tmp_path: Path, launcher: SshServer, stubs: Path, now: object
) -> None:
    """Issue 30: a failed timer's alert resolves once the unit ran successfully after the
    failure, read with `systemctl show` on its host; not on a reset-failed alone."""
    from datetime import datetime

    assert isinstance(now, datetime)
    ops = App(load_settings(config(tmp_path, launcher), env={}), store=store)
    alert_id = sqoop_alert(store)
    with store.session() as session:
        failed_at = session.get(Alert, alert_id).first_seen  # type: ignore[union-attr]
    before = int(failed_at.timestamp()) - 60
    (stubs / "show.txt").write_text(
        f"Result=success\nExecMainStatus=0\nExecMainExitTimestamp=@{before}\n"
    )  # what a reset-failed leaves: success, but of a run before the failure
    (seen,) = ops.verifier.run()
    assert seen.over is False and "ExecMainExitTimestamp" in seen.note
    after = int(failed_at.timestamp()) + 3600
    (stubs / "show.txt").write_text(
        f"Result=success\nExecMainStatus=0\nExecMainExitTimestamp=@{after}\n"
    )
    (seen,) = ops.verifier.run()
    assert seen.over is True
    verify = ops.step_runner.plan  # the command run is the verify step, as shown
    with store.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.status == "resolved"
        assert alert.resolved_by == "check:verify" and "next run succeeded" in (
            alert.resolution_note or ""
        )
        runs = list(session.scalars(select(StepRun).where(StepRun.actor == "check:verify")))
    assert [r.step for r in runs] == ["verify", "verify"]
    assert last_argv(stubs) == [
        "systemctl",
        "show",
        "--timestamp=unix",
        "-p",
        "Result",
        "-p",
        "ExecMainStatus",
        "-p",
        "ExecMainExitTimestamp",
        "--",
        "refinery-sqoop-whole-mediawiki.service",
    ]
    del verify


def test_a_corrupt_blocks_alert_resolves_itself_once_fsck_reports_none(
    store: Store, tmp_path: Path, launcher: SshServer, stubs: Path
) -> None:
    ops = App(load_settings(config(tmp_path, launcher), env={}), store=store)
    AlertChanges(store).ingest(raw_inputs("alertmanager_firing.json"))
    with store.session() as session:
        hdfs = session.scalars(select(Alert).where(Alert.title.like("HdfsCorruptBlocks%"))).one()
    seen = {s.alert_id: s for s in ops.verifier.run()}
    assert seen[hdfs.id].over is True
    assert last_argv(stubs) == ["hdfs", "fsck", "/", "-list-corruptfileblocks"]
    with store.session() as session:
        alert = session.get(Alert, hdfs.id)
        assert alert is not None and alert.status == "resolved"
        assert alert.resolution_note == "hdfs fsck reports no corrupt file any more"


def test_a_java_daemons_thread_dump_is_taken_on_request_and_kept_on_its_alert(
    store: Store, tmp_path: Path, launcher: SshServer, stubs: Path
) -> None:
    path = config(tmp_path, launcher)
    path.write_text(
        path.read_text().replace(f'host = "{LAUNCHER}"', 'host = "an-coord1001.eqiad.wmnet"')
    )
    ops = App(load_settings(path, env={}), store=store)
    payload = {
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "HiveServerHeapUsage",
                    "instance": "an-coord1001.eqiad.wmnet:10100",
                    "team": "data-engineering",
                },
                "annotations": {"summary": "HiveServer2 heap usage above 90%"},
                "startsAt": "2026-12-06T08:40:00Z",
                "fingerprint": "fp-heap",
            }
        ],
    }
    AlertChanges(store).ingest(
        [
            RawInput(
                json.dumps(payload).encode(),
                ALERTMANAGER,
                datetime(2026, 12, 6, 9, tzinfo=UTC),
                "test",
            )
        ]
    )
    with store.session() as session:
        alert_id = int(session.scalars(select(Alert.id)).one())
    planned = ops.step_runner.plan(alert_id, "jstack")
    assert (planned.step.host, planned.step.as_whom, planned.step.effect) == (
        "an-coord1001.eqiad.wmnet",
        "hive",
        "read",
    )  # a read: it runs at once, no confirmation
    result = ops.step_runner.run(planned, "ana")
    assert result.ok and "Full thread dump OpenJDK" in result.output
    assert sorted(argvs(stubs)[-3:]) == [  # the pipe's two sides run side by side
        ["jstack", "-l", "4242"],
        ["systemctl", "show", "--property=MainPID", "--value", "--", "hive-server2"],
        ["tee", "/tmp/hive-server2.jstack"],
    ]
    with store.session() as session:
        (run,) = session.scalars(select(StepRun).where(StepRun.alert_id == alert_id))
        assert "HiveServer2-Handler-Pool" in run.output  # on the alert's page, with its time
