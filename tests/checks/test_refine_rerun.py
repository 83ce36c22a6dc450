"""A Refine rerun run by opsweek on the runner host, over SSH to a real sshd on 127.0.0.1: the
command the alert's steps print runs there exactly (recorded by stubs of sudo,
kerberos-run-command and the Refine job), its YARN application id is read from its output, the
rerun is in the alert's history and the SAL, and the partition's flags are checked after it."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.inputs import from_path
from opsweek.alerts.runbook import steps_for
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import Alert, AlertEvent, SalEntry
from opsweek.db.session import Store
from opsweek.errors import BadInput, ConfigError
from tests.alerts.helpers import ALERT_FIXTURES, RECEIVED, raw_inputs
from tests.conftest import Cli
from tests.services.sshd import SshServer, sshd

pytestmark = pytest.mark.integration

PARTITION = "wmf/data/event/mediawiki_foo/datacenter=eqiad/year=2024/month=1/day=2/hour=3"
JOB = "refine_eventlogging_analytics"
# what the cluster's tools do, as far as the rerun needs: sudo and kerberos-run-command run the
# rest as the user; the Refine job logs like spark-submit, then flags the partition
SUDO = '#!/bin/sh\necho "sudo $*" >> "$STUB_LOG"\n[ "$1" = -u ] && shift 2\nexec "$@"\n'
KRB = '#!/bin/sh\necho "kerberos-run-command $*" >> "$STUB_LOG"\nshift\nexec "$@"\n'
REFINE = """#!/bin/sh
set -e
printf '%s\\n' "$0" "$@" > "$STUB_ARGV"
echo "24/01/02 09:10:01 INFO Client: Submitted application application_1706000000000_4242"
echo "24/01/02 09:14:55 INFO Refine: Finished refinement of dataset event.mediawiki_foo"
{fail}mkdir -p "$HDFS_ROOT/{partition}" && touch "$HDFS_ROOT/{partition}/_REFINED"
""".replace("{partition}", PARTITION)
FAILING = REFINE.replace("{fail}", 'echo "Refine failed: no such column" >&2; exit 3\n')
REFINE = REFINE.replace("{fail}", "")


@pytest.fixture(scope="module")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runner")
    for name, text in (("sudo", SUDO), ("kerberos-run-command", KRB), (JOB, REFINE)):
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def runner(stubs: Path) -> Iterator[SshServer]:
    env = {
        "PATH": f"{stubs}:/usr/bin:/bin",
        "STUB_LOG": str(stubs / "calls.log"),
        "STUB_ARGV": str(stubs / "argv.txt"),
        "HDFS_ROOT": str(stubs / "hdfs"),
    }
    # one SetEnv line: sshd keeps the first value of a keyword it is given twice
    with sshd("SetEnv " + " ".join(f"{k}={v}" for k, v in env.items()) + "\n") as server:
        yield server


def config(tmp_path: Path, server: SshServer, stubs: Path) -> Path:
    path = tmp_path / "opsweek.toml"
    path.write_text(
        f'[files]\nroot = "{(stubs / "hdfs").as_uri()}"\n'
        f'[refine]\nrunner = "{server.user}@127.0.0.1:{server.port}"\n'
        f'runner_key = "{server.client_key}"\nrunner_known_hosts = "{server.known_hosts}"\n'
    )
    return path


def ingest_refine_failure(store: Store) -> int:
    AlertChanges(store).ingest(raw_inputs("refine_failure_qp_crlf.eml"))
    with store.session() as session:
        found = session.scalars(select(Alert).where(Alert.kind == "refine_failure")).all()
        return next(a.id for a in found if a.details["table"] == "event.mediawiki_foo")


def test_a_rerun_runs_the_printed_command_on_the_runner_then_resolves_by_its_flags(
    store: Store, tmp_path: Path, runner: SshServer, stubs: Path
) -> None:
    ops = App(load_settings(config(tmp_path, runner, stubs), env={}), store=store)
    alert_id = ingest_refine_failure(store)
    with store.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        printed = next(
            s for s in steps_for(alert.kind, alert.details, alert_id=alert.id) if s.id == "rerun"
        )
    plan = ops.refine_runner.plan(alert_id)
    assert plan.command == printed.command  # what runs is what the steps print
    result = ops.refine_runner.run(plan, "ana")
    assert result.ok and result.applications == ("application_1706000000000_4242",)
    argv = (stubs / "argv.txt").read_text().splitlines()
    assert [Path(argv[0]).name, *argv[1:]] == shlex.split(printed.command)[5:]
    calls = (stubs / "calls.log").read_text().splitlines()
    flags = " ".join(argv[1:])
    assert calls[-2:] == [
        f"sudo -u analytics kerberos-run-command analytics {JOB} {flags}",
        f"kerberos-run-command analytics {JOB} {flags}",
    ]
    assert result.check is not None and result.check.state == "refined"
    with store.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.status == "resolved"
        assert alert.resolved_by == "check:refine"
        history = [
            (e.actor, e.action, e.note)
            for e in session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id))
        ]
        sal = [(e.actor, e.message) for e in session.scalars(select(SalEntry))]
    assert ("ana", "refine-rerun") in [(a, b) for a, b, _ in history]
    summary = "exit 0, YARN application_1706000000000_4242"
    assert (
        "ana",
        f"reran {JOB} for event.mediawiki_foo 2024-01-02T03 on 127.0.0.1 ({summary})",
    ) in sal


def test_a_failed_rerun_is_recorded_and_leaves_the_alert_open(
    store: Store,
    tmp_path: Path,
    runner: SshServer,
    stubs: Path,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (stubs / "hdfs" / PARTITION / "_REFINED").unlink(missing_ok=True)
    monkeypatch.setenv("OPSWEEK_CONFIG", str(config(tmp_path, runner, stubs)))
    monkeypatch.setenv("OPSWEEK_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    cli.ok("alerts", "ingest", ALERT_FIXTURES / "refine_failure_qp_crlf.eml")
    listed = cli.json("alerts", "list", "--status", "open")["alerts"]
    alert = next(a for a in listed if "event.mediawiki_foo" in a["title"])
    (stubs / JOB).write_text(FAILING)
    try:
        failed = cli("refine", "rerun", str(alert["id"]), "--yes", "--json")
    finally:
        (stubs / JOB).write_text(REFINE)
    assert failed.exit_code == 1
    body = json.loads(failed.stdout)
    assert body["exit_status"] == 3 and body["partition"] is None
    assert "Refine failed" in body["output"]
    assert cli.json("alerts", "list", "--status", "open")["alerts"]  # still open
    sal = cli.json("sal", "list")["entries"]
    assert any("(exit 3, YARN application_1706000000000_4242)" in e["message"] for e in sal)
    asked = cli("refine", "rerun", str(alert["id"]), input="n\n")  # the question, answered no
    assert asked.exit_code == 1 and "will run on 127.0.0.1:" in asked.stdout


def test_without_a_runner_or_a_trusted_command_nothing_runs(store: Store) -> None:
    ops = App(load_settings(env={}), store=store)
    alert_id = ingest_refine_failure(store)
    with pytest.raises(ConfigError, match=r"no \[refine\] runner"):
        ops.refine_runner.plan(alert_id)
    AlertChanges(store).ingest(raw_inputs("airflow_task_failed.eml"))
    with store.session() as session:
        other = session.scalars(select(Alert.id).where(Alert.kind != "refine_failure")).first()
    ops.refine_runner.host = object()  # type: ignore[assignment]  # a runner, as configured
    with pytest.raises(BadInput, match="not a Refine failure alert"):
        ops.refine_runner.plan(int(other or 0))


def test_the_alert_page_shows_the_rerun_then_runs_it(
    store: Store, tmp_path: Path, runner: SshServer, stubs: Path
) -> None:
    import time

    from fastapi.testclient import TestClient

    from opsweek.passwords import set_password
    from opsweek.rotation.people import PersonRecord
    from opsweek.rotation.team import Team
    from opsweek.web import create_app
    from tests.web.test_login_forms import PASSWORD, csrf_of

    (stubs / "hdfs" / PARTITION / "_REFINED").unlink(missing_ok=True)
    ops = App(load_settings(config(tmp_path, runner, stubs), env={}), store=store)
    alert_id = ingest_refine_failure(store)
    with store.writing() as session:
        Team(session).add(PersonRecord("ann", "Ann"))
        set_password(session, "ann", PASSWORD)
    with TestClient(create_app(ops)) as client:
        page = client.get(f"/alerts/{alert_id}").text
        assert f"/alerts/{alert_id}/refine/rerun" in page and "rerun on 127.0.0.1" in page
        confirm = client.get(f"/alerts/{alert_id}/refine/rerun").text
        assert "&#39;--table_include_regex=mediawiki_foo|navigationtiming&#39;" in confirm
        assert "Log in" in confirm  # nobody runs anything without logging in
        client.post(
            "/login",
            data={"username": "ann", "password": PASSWORD, "csrf": csrf_of(client)},
            follow_redirects=False,
        )
        csrf = csrf_of(client, f"/alerts/{alert_id}/refine/rerun")
        sent = client.post(
            f"/alerts/{alert_id}/refine/rerun", data={"csrf": csrf}, follow_redirects=False
        )
        assert sent.status_code == 303
    deadline = time.monotonic() + 30  # the rerun goes on after the answer
    while True:
        with store.session() as session:
            alert = session.get(Alert, alert_id)
            assert alert is not None
            if alert.status == "resolved":
                break
        assert time.monotonic() < deadline, "the rerun never resolved its alert"
        time.sleep(0.2)
    with store.session() as session:
        actors = [e.actor for e in session.scalars(select(SalEntry))]
    assert "ann" in actors


def test_an_unreachable_runner_is_said_on_the_alert(store: Store, tmp_path: Path) -> None:
    import time

    from fastapi.testclient import TestClient

    from opsweek.passwords import set_password
    from opsweek.rotation.people import PersonRecord
    from opsweek.rotation.team import Team
    from opsweek.web import create_app
    from tests.services.common import free_port
    from tests.web.test_login_forms import PASSWORD, csrf_of

    path = tmp_path / "opsweek.toml"
    path.write_text(f'[refine]\nrunner = "nobody@127.0.0.1:{free_port()}"\n')
    ops = App(load_settings(path, env={}), store=store)
    alert_id = ingest_refine_failure(store)
    with store.writing() as session:
        Team(session).add(PersonRecord("ann", "Ann"))
        set_password(session, "ann", PASSWORD)
    with TestClient(create_app(ops)) as client:
        client.post(
            "/login",
            data={"username": "ann", "password": PASSWORD, "csrf": csrf_of(client)},
            follow_redirects=False,
        )
        csrf = csrf_of(client, f"/alerts/{alert_id}/refine/rerun")
        client.post(f"/alerts/{alert_id}/refine/rerun", data={"csrf": csrf})
    deadline = time.monotonic() + 20
    while True:
        with store.session() as session:
            notes = [
                e.note
                for e in session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id))
                if e.action == "note"
            ]
        if notes or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert notes and notes[0].startswith("the Refine rerun could not run: 127.0.0.1")


HOSTILE_RERUN = """To rerun, use the following options:

sudo -u root kerberos-run-command root pwned \\
--since='2024-01-02T03:00:00.000Z' \\
--until=$'\\n'pwned
"""


def test_a_mail_cannot_choose_the_account_or_the_program_of_a_rerun(
    store: Store,
    tmp_path: Path,
    runner: SshServer,
    stubs: Path,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 29: anyone who can mail the alerts list picked what ran, and as whom. opsweek
    builds the rerun itself; a mail asking for another account or program has no rerun at
    all, said on every interface, and nothing reaches the runner."""
    from fastapi.testclient import TestClient

    from opsweek.tokens import Tokens
    from opsweek.web import create_app

    mail = (ALERT_FIXTURES / "refine_failure.eml").read_text()
    hostile = tmp_path / "hostile.eml"
    hostile.write_text(mail[: mail.index("To rerun")] + HOSTILE_RERUN)
    calls = stubs / "calls.log"
    before = calls.read_text() if calls.exists() else ""
    monkeypatch.setenv("OPSWEEK_CONFIG", str(config(tmp_path, runner, stubs)))
    monkeypatch.setenv("OPSWEEK_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    cli.ok("alerts", "ingest", hostile)
    (alert, *_) = cli.json("alerts", "list", "--status", "open")["alerts"]
    refused = cli("refine", "rerun", str(alert["id"]), "--yes")
    assert refused.exit_code == 2
    assert "runs as root; Refine runs as analytics" in refused.stderr
    shown = cli.json("alerts", "show", str(alert["id"]))
    assert not any(s["id"] in ("rerun", "opsweek-rerun") for s in shown["runbook"])
    assert any("opsweek will not rerun this" in s["text"] for s in shown["runbook"])
    ops = App(load_settings(config(tmp_path, runner, stubs), env={}), store=store)
    AlertChanges(store).ingest(from_path(hostile, "auto", RECEIVED))
    with store.writing() as session:
        token = Tokens(session).create("tester", "test")[1]
        alert_id = session.scalars(select(Alert.id)).first()
    with TestClient(create_app(ops)) as client:
        page = client.get(f"/alerts/{alert_id}").text
        assert "opsweek will not rerun this" in page and "rerun on 127.0.0.1" not in page
        api = client.post(
            f"/api/v1/alerts/{alert_id}/refine/rerun",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert api.status_code == 400 and "runs as root" in api.json()["detail"]
    assert (calls.read_text() if calls.exists() else "") == before  # nothing ran
