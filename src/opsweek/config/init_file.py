"""What `opsweek init` writes for a team: a commented opsweek.toml naming its systems, and the
secrets beside it in opsweek.env (readable by its owner only; never in the TOML, which may be
shared or kept in git). Pure: the answers in, the two texts out."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from opsweek.errors import BadInput

NAME = re.compile(r"^[A-Za-z0-9_-]{1,24}\Z")
IMAP = re.compile(
    r"^(?:(?P<scheme>imaps?)://)?(?P<user>[^@/\s]+)@(?P<host>[^:/\s]+)(?::(?P<port>\d+))?(?:/(?P<folder>.+))?\Z"
)


@dataclass
class Answers:
    timezone: str = "UTC"
    database_url: str = ""  # "": SQLite in the data directory
    data_dir: str = ""  # "": the platform's (the demo's)
    web_base_url: str = ""
    alertmanagers: list[str] = field(default_factory=list)  # URLs of one HA cluster
    imap: str = ""  # [imap://|imaps://]user@host[:port][/folder]; imap://: no TLS
    smtp_listen: str = ""  # host:port
    airflow: list[str] = field(default_factory=list)  # name=https://user@host
    tracker_url: str = ""
    tracker_column: str = ""
    slack_channel: str = ""
    wiki_api: str = ""
    wiki_page: str = ""
    wiki_user: str = ""
    irc: str = ""  # host[:port]
    irc_channel: str = ""
    irc_nick: str = "opsweek"
    runners: list[str] = field(default_factory=list)  # host=user@address[:port]
    ssh_key: str = ""  # the runners' private key ("": ~/.ssh's)
    known_hosts: str = ""  # their host keys ("": ~/.ssh/known_hosts)
    launcher: str = ""
    files_root: str = ""
    warehouse: str = ""  # duckdb or spark
    secrets: dict[str, str] = field(default_factory=dict)  # variable: value, when given


@dataclass(frozen=True)
class Written:
    toml: str
    env: str
    secrets: list[str]  # the variables opsweek.env must hold, empty or not


def q(value: str) -> str:
    """A TOML basic string."""
    return json.dumps(value, ensure_ascii=False)


def render(answers: Answers) -> Written:
    lines = [
        "# opsweek.toml, written by `opsweek init`. Every setting: `opsweek config show`, and",
        "# the reference of settings. Secrets are not here: they are in opsweek.env beside it",
        "# (readable by you only), which opsweek reads too. Then: `opsweek doctor`.",
        "",
        "[team]",
        f"timezone = {q(answers.timezone)}",
    ]
    secrets: dict[str, str] = {}

    def secret(name: str, what: str) -> str:
        secrets[name] = what
        return name

    top = []  # top-level keys come before the first table
    if answers.database_url:
        top.append(f"database_url = {q(answers.database_url)}  # the store")
    if answers.data_dir:
        top.append(f"data_dir = {q(answers.data_dir)}  # the store and the team's files")
    if top:
        lines[4:4] = [*top, ""]
    if answers.web_base_url:
        lines += ["", "[web]", "# the address people and Alertmanager reach opsweek at"]
        lines.append(f"base_url = {q(answers.web_base_url.rstrip('/'))}")
    intake: list[str] = []
    if answers.imap:
        found = IMAP.match(answers.imap)
        if found is None:
            raise BadInput(
                f"--imap {answers.imap!r}: user@host, user@host:993/Folder or imap://user@host:143"
            )
        intake += [
            "# alert e-mails read from a mailbox (the password: opsweek.env)",
            f"imap_host = {q(found['host'])}",
            f"imap_port = {int(found['port'] or (143 if found['scheme'] == 'imap' else 993))}",
            *(["imap_ssl = false  # imap://: no TLS"] if found["scheme"] == "imap" else []),
            f"imap_user = {q(found['user'])}",
            f"imap_folder = {q(found['folder'] or 'INBOX')}",
        ]
        secret("OPSWEEK_INTAKE_IMAP_PASSWORD", "the IMAP password")
    if answers.smtp_listen:
        if not re.match(r"^[\w.-]*:\d+\Z", answers.smtp_listen):
            raise BadInput(f"--smtp-listen {answers.smtp_listen!r}: host:port")
        intake += [
            "# alert e-mails sent by the mail relay",
            f"smtp_listen = {q(answers.smtp_listen)}",
        ]
    if intake:
        lines += ["", "[intake]", *intake]
    if answers.tracker_url:
        lines += [
            "",
            "[tracker]",
            'kind = "phabricator"',
            f"url = {q(answers.tracker_url)}",
            f"column_phid = {q(answers.tracker_column)}",
        ]
        secret("OPSWEEK_TRACKER_TOKEN", "the Conduit API token (api-...)")
    if answers.slack_channel:
        lines += [
            "",
            "[chat]",
            'kind = "slack"',
            f"collab_channel = {q(answers.slack_channel)}",
        ]
        secret("OPSWEEK_CHAT_TOKEN", "the Slack bot token (xoxb-...)")
    if answers.wiki_api or answers.irc:
        publish = [p for p, given in (("wiki", answers.wiki_api), ("irc", answers.irc)) if given]
        lines += ["", "[sal]", f"publish = {q(','.join(publish))}"]
        if answers.wiki_api:
            lines += [
                f"wiki_api = {q(answers.wiki_api)}",
                f"wiki_page = {q(answers.wiki_page or 'Server Admin Log')}",
                f"wiki_user = {q(answers.wiki_user)}",
            ]
            secret("OPSWEEK_SAL_WIKI_PASSWORD", "the wiki bot password")
    if answers.irc:
        host, _, port = answers.irc.partition(":")
        lines += [
            "",
            "[irc]",
            f"server = {q(host)}",
            f"port = {int(port or 6697)}",
            f"tls = {'false' if port and port != '6697' else 'true'}",
            f"nick = {q(answers.irc_nick)}",
            f"channels = {q(answers.irc_channel)}",
        ]
    if answers.launcher or answers.files_root or answers.warehouse:
        if answers.launcher:
            lines += ["", "[cluster]", f"launcher = {q(answers.launcher)}"]
        if answers.files_root:
            lines += ["", "[files]", f"root = {q(answers.files_root)}"]
        if answers.warehouse:
            if answers.warehouse not in ("duckdb", "spark"):
                raise BadInput("--warehouse: duckdb or spark")
            lines += ["", "[warehouse]", f"backend = {q(answers.warehouse)}"]
    for url in answers.alertmanagers:
        if not url.startswith(("http://", "https://")):
            raise BadInput(f"--alertmanager {url!r}: an http(s) URL")
    for number, url in enumerate(answers.alertmanagers, 1):
        lines += [
            "",
            "# acknowledging an alert silences it there (alertmanager.ack_silences = false: not)",
            "[[alertmanager.instances]]",
            f"name = {q(f'alertmanager{number}')}",
            f"url = {q(url.rstrip('/'))}",
            'cluster = "main"',
        ]
    for entry in answers.airflow:
        name, equals, url = entry.partition("=")
        parts = urlsplit(url)
        if not equals or not NAME.match(name) or parts.scheme not in ("http", "https"):
            raise BadInput(f"--airflow {entry!r}: name=https://user@airflow.example.org")
        variable = f"AIRFLOW_{name.upper().replace('-', '_')}_PASSWORD"
        clean = urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))
        if parts.port:
            clean = urlunsplit((parts.scheme, f"{parts.hostname}:{parts.port}", parts.path, "", ""))
        lines += ["", "[[airflow.instances]]", f"name = {q(name)}", f"url = {q(clean)}"]
        if parts.username:
            lines += [f"user = {q(parts.username)}", f"password_env = {q(variable)}"]
            secret(variable, f"the password of {parts.username} on airflow {name}")
    for entry in answers.runners:
        host, equals, address = entry.partition("=")
        if not equals or "@" not in address:
            raise BadInput(f"--runner {entry!r}: host=user@address[:port]")
        lines += [
            "",
            "# where opsweek runs a step on request (read-only ones at once; changes only when",
            "# runner.allow_changes lists them)",
            "[[runners]]",
            f"host = {q(host)}",
            f"ssh = {q(address)}",
        ]
        lines += [f"key = {q(answers.ssh_key)}"] if answers.ssh_key else []
        lines += [f"known_hosts = {q(answers.known_hosts)}"] if answers.known_hosts else []
    env = [
        "# opsweek.env, written by `opsweek init`: the secrets of opsweek.toml, for its owner",
        "# only (chmod 600). NAME=value, one a line; opsweek reads it beside opsweek.toml.",
    ]
    for name, what in secrets.items():
        env += [f"# {what}", f"{name}={answers.secrets.get(name, '')}"]
    return Written("\n".join(lines) + "\n", "\n".join(env) + "\n", list(secrets))
