"""`opsweek doctor`: every connection the settings configure, tried for real, one line each:
what works, what does not and why. It only reads and logs in: it never changes anything
(no mail sent, no message posted, no silence made, no IRC channel joined).

Each `Probe` names what it tries; `examine` runs them side by side, each within its own time,
so one host that does not answer costs its timeout, not the others'."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shlex
import socket
import ssl
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from opsweek.app import App
from opsweek.errors import ConfigError, OpsweekError, first_line

TIMEOUT = 20.0  # seconds a probe may take
REFUSALS = ("432", "433", "464", "465")  # IRC: bad nick, nick in use, bad password, banned


@dataclass(frozen=True)
class Probe:
    name: str  # "store", "imap", "airflow analytics", "runner an-launcher1002"...
    what: str  # what is tried, and where
    run: Callable[[], str]  # what was seen; raises when it does not work


@dataclass(frozen=True)
class Finding:
    name: str
    what: str
    ok: bool
    said: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "what": self.what, "ok": self.ok, "said": self.said}


def examine(probes: list[Probe], timeout: float = TIMEOUT) -> list[Finding]:
    """Every probe, side by side; each that raises or outlives ``timeout`` is a failure."""
    if not probes:
        return []
    pool = ThreadPoolExecutor(max_workers=min(16, len(probes)))
    futures = [pool.submit(probe.run) for probe in probes]
    found = []
    for probe, future in zip(probes, futures, strict=True):
        try:
            found.append(Finding(probe.name, probe.what, True, future.result(timeout=timeout)))
        except TimeoutError:
            said = f"no answer within {timeout:g} s"
            found.append(Finding(probe.name, probe.what, False, said))
        except Exception as exc:  # whatever a connection says is the finding
            found.append(Finding(probe.name, probe.what, False, first_line(exc)))
    pool.shutdown(wait=False, cancel_futures=True)
    return found


def probes(ops: App) -> list[Probe]:
    """What the settings configure, store first."""
    s = ops.settings
    found = [Probe("store", _mask(s.database.url), lambda: _store(ops))]
    intake = s.intake
    if intake.imap_host:
        found.append(
            Probe(
                "imap",
                f"log in as {intake.imap_user} to {intake.imap_host}:{intake.imap_port}, "
                f"folder {intake.imap_folder}",
                lambda: _imap(ops),
            )
        )
    if intake.smtp_listen:
        found.append(
            Probe("smtp listener", intake.smtp_listen, lambda: _listen(intake.smtp_listen))
        )
    if s.mail.smtp_host:
        found.append(
            Probe("mail out", f"{s.mail.smtp_host}:{s.mail.smtp_port}", lambda: _smtp_out(ops))
        )
    if s.alertmanager_entries:
        for name, cluster in ops.alertmanagers.items():
            found.append(
                Probe(
                    f"alertmanager {name}",
                    ", ".join(cluster.urls),
                    lambda cluster=cluster: _alertmanager(ops, cluster),
                )
            )
    for name, client in ops.airflow_clients.items():
        found.append(Probe(f"airflow {name}", client.instance.url, client.check_access))
    if ops.tracker is not None:
        found.append(Probe("tracker", s.tracker.url, lambda: _tracker(ops)))
    if ops.chat is not None:
        found.append(Probe("chat", s.chat.base_url, lambda: _chat(ops)))
    if s.sal.wiki_api:
        found.append(
            Probe("sal wiki", f"{s.sal.wiki_api}, page {s.sal.wiki_page}", lambda: _wiki(ops))
        )
    if s.irc.server:
        found.append(
            Probe(
                "irc",
                f"{s.irc.server}:{s.irc.port}, {', '.join(s.irc.channels) or 'no channel'}",
                lambda: _irc(ops),
            )
        )
    for host, runner in ops.runner_hosts.items():
        found.append(
            Probe(
                f"runner {host}",
                f"ssh {runner.user}@{runner.host}:{runner.port}",
                _ssh(ops, runner),
            )
        )
    for host in ops.hosts() if s.host_entries else []:
        found.append(Probe(f"host {host.name}", "ssh", _ssh(ops, host)))
    if s.sources.get("files.root", "default") != "default":
        found.append(Probe("files", s.files.root, lambda: _files(ops)))
        found.append(Probe("warehouse", s.warehouse.backend, lambda: _warehouse(ops)))
    if s.prometheus_url:
        found.append(Probe("prometheus", s.prometheus_url, lambda: _prometheus(ops)))
    return found


def _mask(url: str) -> str:
    from opsweek.config.settings import mask_url

    return mask_url(url)


def _store(ops: App) -> str:
    from sqlalchemy import text

    from opsweek.db.session import newest_revision, stored_revision

    store = ops.store
    revision, newest = stored_revision(store.engine), newest_revision()
    if revision != newest:
        raise ConfigError(f"schema at {revision}, not {newest}: run opsweek db upgrade")
    url = store.engine.url
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        writable = os.access(path, os.W_OK) and os.access(os.path.dirname(path) or ".", os.W_OK)
        if not writable:
            raise ConfigError(f"{path} is not writable by {ops.user}")
    else:
        with store.engine.connect() as connection:
            allowed = connection.execute(text("SELECT has_table_privilege('alerts', 'INSERT')"))
            if not allowed.scalar():
                raise ConfigError("the database user may not write the alerts table")
    return f"schema {revision} (current), writable"


def _imap(ops: App) -> str:
    from imapclient import IMAPClient

    intake = ops.settings.intake
    with IMAPClient(intake.imap_host, intake.imap_port, ssl=intake.imap_ssl, timeout=15) as imap:
        imap.login(intake.imap_user, intake.imap_password)
        selected = imap.select_folder(intake.imap_folder, readonly=True)
        unseen = len(imap.search(["UNSEEN"]))
        imap.logout()
    return f"{int(selected.get(b'EXISTS', 0))} messages, {unseen} unseen"


def _listen(address: str) -> str:
    host, _, port = address.rpartition(":")
    if _can_bind(host or "0.0.0.0", int(port)):
        return "free: opsweek serve can listen there"
    with socket.create_connection((host or "127.0.0.1", int(port)), timeout=5) as sock:
        banner = sock.recv(512).decode(errors="replace").strip()
        sock.sendall(b"QUIT\r\n")
    if not banner.startswith("220"):
        raise ConfigError(f"in use by something that is not an SMTP server: {banner[:80]!r}")
    return f"an SMTP server listens there (opsweek serve?): {banner[:80]}"


def _can_bind(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _smtp_out(ops: App) -> str:
    import smtplib

    mail = ops.settings.mail
    with smtplib.SMTP(mail.smtp_host, mail.smtp_port, timeout=15) as smtp:
        smtp.ehlo()
        if mail.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if mail.smtp_user:
            smtp.login(mail.smtp_user, mail.smtp_password)
        smtp.noop()
    return "connected" + (f", logged in as {mail.smtp_user}" if mail.smtp_user else "")


def _alertmanager(ops: App, cluster: Any) -> str:
    """Each instance answers; its configuration sends webhooks to this opsweek."""
    base = ops.settings.web.base_url.rstrip("/")
    hook = f"{base}/api/v1/intake/alertmanager"
    said, problems = [], []
    for instance, status in cluster.statuses():
        if isinstance(status, str):
            problems.append(f"{instance.name}: {status}")
            continue
        version = (status.get("versionInfo") or {}).get("version", "?")
        peers = len((status.get("cluster") or {}).get("peers") or [])
        original = str((status.get("config") or {}).get("original") or "")
        sends = hook in original
        said.append(f"{instance.name} {version}, {peers} peer(s)")
        if not sends:
            problems.append(f"{instance.name}: no webhook receiver sends to {hook}")
    if problems:
        raise ConfigError("; ".join(problems))
    return "; ".join(said) + f"; webhooks to {hook}"


def _tracker(ops: App) -> str:
    tracker = ops.tracker
    assert tracker is not None
    me = tracker.conduit("user.whoami", {})  # type: ignore[attr-defined]
    tasks = tracker.ops_tasks()
    return f"logged in as {me.get('userName')}; {len(tasks)} task(s) on the ops-week column"


def _chat(ops: App) -> str:
    chat = ops.chat
    assert chat is not None
    return str(chat.whoami(ops.settings.chat.collab_channel))  # type: ignore[attr-defined]


def _wiki(ops: App) -> str:
    page = ops.sal_wiki
    assert page is not None
    revision = page.read(to_edit=False)
    user = ops.settings.sal.wiki_user or "anonymous"
    return f"logged in as {user}; {ops.settings.sal.wiki_page} at revision {revision.revid}"


def _irc(ops: App) -> str:
    """Register with the server under a name of its own (the bot may hold the configured
    nick) and ask for each channel: nothing is joined or said."""
    irc = ops.settings.irc
    raw = socket.create_connection((irc.server, irc.port), timeout=15)
    sock = raw
    if irc.tls:
        sock = ssl.create_default_context().wrap_socket(raw, server_hostname=irc.server)
    nick = f"{irc.nick[:9]}-dr"
    with sock:
        lines = []
        if irc.password and not irc.sasl:
            lines.append(f"PASS {irc.password}")
        lines += [f"NICK {nick}", f"USER {nick} 0 * :opsweek doctor"]
        sock.sendall("".join(f"{line}\r\n" for line in lines).encode())
        welcome, buffer, tries = "", b"", 0
        while not welcome:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConfigError("the server closed the connection before welcoming us")
            buffer += chunk
            *complete, rest = buffer.split(b"\r\n")
            buffer = rest
            for line in (raw.decode(errors="replace") for raw in complete):
                parts = line.split()
                if line.startswith("PING"):
                    sock.sendall(f"PONG {line[5:]}\r\n".encode())
                elif len(parts) > 1 and parts[1] == "001":
                    welcome = line
                elif len(parts) > 1 and parts[1] == "433" and tries < 5:
                    tries += 1  # another doctor's nick, still leaving: one of our own
                    nick = f"{irc.nick[:9]}-dr{secrets.randbelow(1000)}"
                    sock.sendall(f"NICK {nick}\r\n".encode())
                elif line.startswith("ERROR") or (len(parts) > 1 and parts[1] in REFUSALS):
                    raise ConfigError(f"refused: {line[:200]}")
        missing = []
        for channel in irc.channels:
            sock.sendall(f"LIST {channel}\r\n".encode())
            reply = b""
            while b" 323 " not in reply:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
            if f" 322 {nick} {channel} ".encode().lower() not in reply.lower():
                missing.append(channel)
        sock.sendall(b"QUIT :opsweek doctor\r\n")
        with contextlib.suppress(OSError):  # until the server lets the nick go
            while sock.recv(4096):
                pass
    if missing:
        raise ConfigError(f"connected, but no channel {', '.join(missing)}")
    return f"connected; {', '.join(irc.channels) or 'no channel configured'} there"


def _ssh(ops: App, host: Any) -> Callable[[], str]:
    warnings.filterwarnings("ignore", module="asyncssh")  # its DSA notices say nothing here

    def run() -> str:
        done = asyncio.run(host.execute("id -un", TIMEOUT))
        if done.exit_status not in (0, None):
            raise ConfigError(f"id -un: exit {done.exit_status}: {done.stderr[:200]}")
        said = f"logged in as {done.stdout.strip()}"
        kerberos = ops.settings.cluster.kerberos
        if kerberos and host.name in ops.runner_hosts:
            check = asyncio.run(host.execute(f"command -v {shlex.quote(kerberos)}", TIMEOUT))
            if check.exit_status != 0:
                raise ConfigError(f"{said}, but {kerberos} is not there (cluster.kerberos)")
            said += f"; {kerberos} there"
        return said

    return run


def _files(ops: App) -> str:
    files = ops.files
    root = ops.settings.files.root
    if not files.exists("/"):
        raise ConfigError(f"{root} cannot be read")
    return f"{root} readable"


def _warehouse(ops: App) -> str:
    with ops.warehouse() as warehouse:
        warehouse.query("SELECT 1 AS one")
    return f"{ops.settings.warehouse.backend} runs a query"


def _prometheus(ops: App) -> str:
    prometheus = ops.prometheus
    assert prometheus is not None
    prometheus.query("vector(1)")
    failing = []
    for dashboard in ops.dashboards:
        if dashboard.prometheus:
            try:
                prometheus.query(dashboard.prometheus)
            except OpsweekError as exc:
                failing.append(f"{dashboard.name}: {exc}")
    if failing:
        raise ConfigError("the dashboards' queries fail: " + "; ".join(failing))
    queries = sum(1 for d in ops.dashboards if d.prometheus)
    return f"answers; the dashboards' {queries} queries run"
