"""docs/guide.md followed as a new user would, against real servers on 127.0.0.1 (PostgreSQL,
Dovecot, an Alertmanager, Airflow 3, MediaWiki, ngIRCd, sshd): `opsweek init` with the
guide's options, the secrets filled into opsweek.env, the Alertmanager token, then
`opsweek doctor`: every line ok. Then each server is stopped in turn, and `doctor` names it,
says why, and still finds the others working."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.services.airflow import PASSWORD as AIRFLOW_PASSWORD
from tests.services.airflow import USER as AIRFLOW_USER
from tests.services.airflow import airflow
from tests.services.alertmanager import alertmanager
from tests.services.common import free_port
from tests.services.dovecot import dovecot
from tests.services.mediawiki import mediawiki
from tests.services.ngircd import IrcClient, ngircd
from tests.services.postgres import start_postgres
from tests.services.sshd import sshd

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
CHANNEL = "#team-ops"


def opsweek(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``opsweek ARGS`` in a shell in ``folder``, as the guide has it typed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSWEEK_")}
    env["HOME"] = str(folder)  # no ~/.ssh, no user data directory of the one running tests
    return subprocess.run(
        [sys.executable, "-m", "opsweek", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def doctor(folder: Path) -> dict[str, dict[str, Any]]:
    done = opsweek(folder, "--config", "opsweek.toml", "doctor", "--json")
    assert done.returncode in (0, 1), done.stderr
    found = json.loads(done.stdout)
    assert found["ok"] == (done.returncode == 0)
    return {c["name"]: c for c in found["connections"]}


@contextmanager
def irc_with_channel() -> Any:
    """ngIRCd with someone in the team's channel (a channel exists while someone is in it)."""
    with ngircd() as server:
        member = IrcClient(server.port, "ana")
        member.join(CHANNEL)
        try:
            yield server
        finally:
            member.close()


def test_the_guide_from_init_to_a_green_doctor_then_each_service_stopped(
    tmp_path: Path,
) -> None:
    base_url = f"http://127.0.0.1:{free_port()}"
    token = "am-token-" + os.urandom(8).hex()
    stubs = tmp_path / "bin"  # the launcher's Kerberos wrapper
    stubs.mkdir()
    (stubs / "kerberos-run-command").write_text('#!/bin/sh\nshift\nexec "$@"\n')
    (stubs / "kerberos-run-command").chmod(0o755)
    services: dict[str, ExitStack] = {}

    def start(name: str, service: Any) -> Any:
        services[name] = ExitStack()
        return services[name].enter_context(service)

    try:
        pg = start("store", contextmanager(start_postgres)())
        imap = start("imap", dovecot())
        am = start(
            "alertmanager main", alertmanager(f"{base_url}/api/v1/intake/alertmanager", token)
        )
        af = start("airflow analytics", airflow())
        wiki = start("sal wiki", mediawiki())
        irc = start("irc", irc_with_channel())
        ssh = start("runner an-launcher1002", sshd(f"SetEnv PATH={stubs}:/usr/bin:/bin\n"))
        wiki_user, wiki_password = wiki.bot_password(app="opsweek")
        team = tmp_path / "team"
        team.mkdir()

        # 1. Write the settings: the guide's options, with these servers' addresses
        options = [
            "--timezone", "Europe/Paris",
            "--person", "ana:Ana Lyst",
            "--person", "bob:Bob Ops:America/New_York",
            "--base-url", base_url,
            "--alertmanager", am,
            "--imap", f"imap://{imap.user}@127.0.0.1:{imap.port}/INBOX",
            "--airflow", f"analytics={af.url.replace('://', f'://{AIRFLOW_USER}@', 1)}",
            "--wiki-api", wiki.api_url,
            "--wiki-page", "Main Page",
            "--wiki-user", wiki_user,
            "--irc", f"127.0.0.1:{irc.port}",
            "--irc-channel", CHANNEL,
            "--runner", f"an-launcher1002={ssh.user}@127.0.0.1:{ssh.port}",
            "--ssh-key", str(ssh.client_key),
            "--known-hosts", str(ssh.known_hosts),
            "--database", pg.url(),
        ]  # fmt: skip
        for option in options[::2]:
            assert option in GUIDE, f"the guide does not show {option}"
        done = opsweek(team, "init", *options, "--json")
        assert done.returncode == 0, done.stderr
        written = json.loads(done.stdout)
        assert written["people"] == ["ana", "bob"]
        assert written["to_fill"] == [
            "OPSWEEK_INTAKE_IMAP_PASSWORD",
            "OPSWEEK_SAL_WIKI_PASSWORD",
            "AIRFLOW_ANALYTICS_PASSWORD",
        ]
        # ... the secrets filled into opsweek.env by hand, as the guide says
        env_file = team / "opsweek.env"
        text = env_file.read_text()
        for name, value in (
            ("OPSWEEK_INTAKE_IMAP_PASSWORD", imap.password),
            ("OPSWEEK_SAL_WIKI_PASSWORD", wiki_password),
            ("AIRFLOW_ANALYTICS_PASSWORD", AIRFLOW_PASSWORD),
        ):
            text = re.sub(rf"^{name}=$", f"{name}={value}", text, flags=re.MULTILINE)
            assert value not in (team / "opsweek.toml").read_text()
        env_file.write_text(text)

        # 2. Alertmanager's token (its receiver is configured by tests/services/alertmanager.py)
        assert "token create alertmanager" in GUIDE
        created = opsweek(team, "--config", "opsweek.toml", "token", "create", "alertmanager")
        assert created.returncode == 0, created.stderr

        # 3. Check every connection: all green
        found = doctor(team)
        assert set(found) == set(services), found
        assert all(c["ok"] for c in found.values()), [c for c in found.values() if not c["ok"]]
        assert "logged in as " + ssh.user in found["runner an-launcher1002"]["said"]
        assert "kerberos-run-command there" in found["runner an-launcher1002"]["said"]
        assert "webhooks to " + base_url in found["alertmanager main"]["said"]
        assert CHANNEL in found["irc"]["said"]
        shown = opsweek(team, "--config", "opsweek.toml", "doctor")
        assert shown.returncode == 0, shown.stdout
        assert shown.stdout.count("ok ") == len(services)

        # then each server stopped in turn: named, with why, the others still working
        stopped: list[str] = []
        for name in [n for n in services if n != "store"] + ["store"]:
            services[name].close()
            stopped.append(name)
            found = doctor(team)
            assert not found[name]["ok"] and found[name]["said"], (name, found[name])
            still = [n for n in services if n not in stopped and n in found]
            assert all(found[n]["ok"] for n in still), (
                name,
                [found[n] for n in still if not found[n]["ok"]],
            )
            if name != "store":
                assert found["store"]["ok"]
        assert "store" in stopped
    finally:
        for stack in reversed(list(services.values())):
            stack.close()
