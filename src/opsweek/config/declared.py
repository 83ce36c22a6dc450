"""Every setting, declared once: its name, type, default, help, whether it is a secret and
how its value is checked. `opsweek config show` and the README's table are made from this."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opsweek.site import LAUNCHER_UNITS, REFINE_JOBS, Site
from opsweek.timeutil import parse_clock, parse_weekday, parse_weekdays, zone

ENV_PREFIX = "OPSWEEK_"


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str
    secret: bool = False
    check: Callable[[Any], object] | None = None

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper().replace(".", "_")


def _positive(value: int) -> None:
    if value < 0:
        raise ValueError("must be zero or more")


def _at_least_one(value: int) -> None:
    if value < 1:
        raise ValueError("must be 1 or more")


def _one_of(value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError("expected one of: " + ", ".join(repr(a) for a in allowed))


def _site_value(name: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        Site(**{name: value}).check()

    return check


def _refine_jobs(value: str) -> None:
    Site(refine_jobs=tuple(part.strip() for part in value.split(",") if part.strip())).check()


PUBLISH_TARGETS = ("wiki", "irc")


def _publish_targets(value: str) -> None:
    for target in (part.strip() for part in value.split(",")):
        if target and target not in PUBLISH_TARGETS:
            raise ValueError("expected a comma-separated list of: wiki, irc")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir",
        str,
        "",
        "Directory for the SQLite file and local state "
        "(default: the platform's user data directory).",
    ),
    Setting(
        "database_url",
        str,
        "",
        "SQLAlchemy URL of the store; default: SQLite file "
        "<data_dir>/opsweek.db. PostgreSQL: postgresql+psycopg://user:pw@host/db.",
        secret=True,
    ),
    Setting(
        "user",
        str,
        "",
        "Your username, the actor recorded for changes made from this "
        "machine (default: the login name).",
    ),
    Setting(
        "team.timezone", str, "UTC", "IANA timezone in which ops weeks begin and end.", check=zone
    ),
    Setting(
        "rotation.handoff_weekday",
        str,
        "thursday",
        "Weekday on which an ops week ends and the next begins.",
        check=parse_weekday,
    ),
    Setting(
        "rotation.handoff_time",
        str,
        "09:00",
        "Local time (team timezone) of the handoff.",
        check=parse_clock,
    ),
    Setting(
        "rotation.working_days",
        str,
        "mon,tue,wed,thu,fri",
        "Days that count when checking whether someone is away during a week.",
        check=parse_weekdays,
    ),
    Setting(
        "rotation.max_away_days",
        int,
        0,
        "Working days someone may be away and still be assigned that week.",
        check=_positive,
    ),
    Setting(
        "rotation.published_weeks",
        int,
        8,
        "Weeks ahead that are published and stay fixed when re-planning.",
        check=_positive,
    ),
    Setting(
        "rotation.lookback_weeks",
        int,
        26,
        "Past weeks counted when balancing load.",
        check=_positive,
    ),
    Setting(
        "alerts.flap_threshold",
        int,
        3,
        "Re-fires within the flap window that mark an alert as flapping.",
        check=_positive,
    ),
    Setting(
        "alerts.flap_window_minutes", int, 60, "Window for counting re-fires.", check=_positive
    ),
    Setting(
        "intake.max_body_bytes",
        int,
        10 * 1024 * 1024,
        "Largest webhook or e-mail body accepted over HTTP or SMTP; larger ones get HTTP 413.",
        check=_positive,
    ),
    Setting(
        "intake.smtp_listen",
        str,
        "",
        "host:port for the SMTP listener started by "
        "`opsweek serve` (e.g. 127.0.0.1:8025); empty: no listener.",
    ),
    Setting(
        "intake.imap_host",
        str,
        "",
        "IMAP server polled for alert e-mails by `opsweek serve`; empty: no polling.",
    ),
    Setting("intake.imap_port", int, 993, "IMAP port.", check=_positive),
    Setting("intake.imap_ssl", bool, True, "Use TLS for IMAP."),
    Setting("intake.imap_user", str, "", "IMAP login."),
    Setting("intake.imap_password", str, "", "IMAP password.", secret=True),
    Setting(
        "intake.imap_folder", str, "INBOX", "Folder to read; messages read are flagged as seen."
    ),
    Setting("intake.imap_interval", int, 60, "Seconds between IMAP polls.", check=_positive),
    Setting("web.host", str, "127.0.0.1", "Address `opsweek serve` listens on."),
    Setting("web.port", int, 8080, "Port `opsweek serve` listens on.", check=_positive),
    Setting(
        "web.base_url",
        str,
        "",
        "Public URL of the web app, used in links (default: http://<web.host>:<web.port>).",
    ),
    Setting(
        "database.sqlite_synchronous",
        str,
        "NORMAL",
        "SQLite durability: NORMAL (an acknowledged webhook survives a crash of opsweek, not a "
        "power cut) or FULL (it survives a power cut too; each commit waits for the disk).",
    ),
    Setting("sal.project", str, "analytics", "Project of SAL entries that name none."),
    Setting(
        "sal.projects",
        str,
        "analytics,analytics-dumps",
        "Projects `!log <project> ...` may name; another first word is part of the message.",
    ),
    Setting(
        "sal.relay_users",
        str,
        "",
        "Users whose API tokens may log SAL entries under another nick (a relay bot logging "
        "for others), comma separated. Everyone else logs under their own name.",
    ),
    Setting(
        "sal.related_window_hours",
        int,
        72,
        "How far before an alert's first occurrence SAL entries count as related.",
        check=_positive,
    ),
    Setting(
        "sal.publish",
        str,
        "",
        "Where opsweek's own SAL entries (its actions, `opsweek log`, the web form) are "
        "published, comma separated: `wiki` (an edit of sal.wiki_page), `irc` (a `!log` line "
        "the IRC bot says for the team's SAL bot), both, or empty for neither. Choose `irc` "
        "alone when the team's bot writes the wiki from `!log`.",
        check=_publish_targets,
    ),
    Setting(
        "sal.wiki_api",
        str,
        "",
        "The MediaWiki Action API of the SAL wiki, e.g. https://wikitech.wikimedia.org/w/api.php.",
    ),
    Setting("sal.wiki_page", str, "", "The SAL page, e.g. Analytics/Server Admin Log."),
    Setting("sal.wiki_user", str, "", "Bot password user name for the wiki (User@botname)."),
    Setting("sal.wiki_password", str, "", "The bot password.", secret=True),
    Setting(
        "sal.sync_minutes",
        int,
        5,
        "How often `opsweek serve` reads the SAL page for entries logged elsewhere (0: never; "
        "`opsweek sal sync` reads it on demand).",
        check=_positive,
    ),
    Setting("irc.server", str, "", "IRC server for the SAL bot (`opsweek irc`); empty: no bot."),
    Setting("irc.port", int, 6697, "IRC port.", check=_positive),
    Setting("irc.tls", bool, True, "Connect with TLS."),
    Setting("irc.nick", str, "opsweek-bot", "The bot's nick (and SASL account)."),
    Setting("irc.password", str, "", "SASL password (or server password).", secret=True),
    Setting("irc.sasl", bool, False, "Log in with SASL PLAIN."),
    Setting("irc.channels", str, "#wikimedia-analytics", "Channels to join, comma separated."),
    Setting(
        "irc.relay_nicks", str, "", "Nicks of relays whose `user@host message` lines credit `user`."
    ),
    Setting(
        "irc.allow_ack",
        bool,
        False,
        "Let team members acknowledge alerts with `!ack ID`. Only from a nick set as a "
        "member's IRC nick (`opsweek team add --irc`); IRC itself does not prove who "
        "holds a nick: turn this on only where the network's services make members' nicks "
        "registered and enforced, or anyone taking a member's nick while they are away can ack.",
    ),
    Setting(
        "irc.keep_days",
        int,
        7,
        "Days the bot keeps the channels' lines (for Today's mentions); older ones are deleted.",
        check=_positive,
    ),
    Setting(
        "irc.watch_words",
        str,
        "analytics,refine,airflow,hive,hadoop,hdfs,druid,spark,dumps,webrequest,sqoop,kerberos",
        "Comma-separated words that make a channel line worth showing on Today (besides the "
        "person on duty's name and the references of open alerts).",
    ),
    Setting(
        "irc.mentions_hours",
        int,
        24,
        "How far back Today looks for channel lines that matter.",
        check=_positive,
    ),
    Setting(
        "duties.reminder_hours",
        int,
        4,
        "Hours before the handoff when the current and next person are reminded.",
        check=_positive,
    ),
    Setting(
        "handoff.noise_weeks",
        int,
        8,
        "Weeks counted in the handoff's noise section (kinds that fire most, fixed by nobody).",
        check=_positive,
    ),
    Setting(
        "tracker.kind",
        str,
        "",
        "Task tracker: `phabricator`, or empty for none.",
        check=lambda v: _one_of(v, ("", "phabricator")),
    ),
    Setting(
        "tracker.url", str, "", "Base URL of the tracker, e.g. https://phabricator.example.org."
    ),
    Setting("tracker.token", str, "", "Conduit API token (api-...).", secret=True),
    Setting(
        "tracker.column_phid",
        str,
        "",
        "PHID of the board column holding ops-week tasks (the 'Ops Week' column).",
    ),
    Setting(
        "tracker.timeout", int, 10, "Seconds before a tracker request gives up.", check=_positive
    ),
    Setting(
        "chat.kind",
        str,
        "",
        "Team chat: `slack`, or empty for none.",
        check=lambda v: _one_of(v, ("", "slack")),
    ),
    Setting("chat.base_url", str, "https://slack.com/api/", "Base URL of the Slack Web API."),
    Setting("chat.token", str, "", "Slack bot token (xoxb-...).", secret=True),
    Setting(
        "chat.collab_channel",
        str,
        "",
        "Channel id of the collaboration channel whose questions must be answered in time.",
    ),
    Setting(
        "chat.team_channel",
        str,
        "",
        "Channel id where the handoff thread and reminders are posted.",
    ),
    Setting(
        "chat.answer_hours",
        int,
        24,
        "Hours within which a question in the collaboration channel should get a team reply.",
        check=_positive,
    ),
    Setting("chat.timeout", int, 10, "Seconds before a chat request gives up.", check=_positive),
    Setting("mail.smtp_host", str, "", "SMTP server for decisions, handoffs and reminders."),
    Setting("mail.smtp_port", int, 25, "SMTP port.", check=_positive),
    Setting("mail.smtp_starttls", bool, False, "Use STARTTLS."),
    Setting("mail.smtp_user", str, "", "SMTP login (empty: no login)."),
    Setting("mail.smtp_password", str, "", "SMTP password.", secret=True),
    Setting("mail.sender", str, "opsweek@localhost", "From address of mail opsweek sends."),
    Setting(
        "mail.alerts_list",
        str,
        "",
        "List that decisions and handoffs are mailed to (the runbook's data-engineering-alerts).",
    ),
    Setting(
        "files.root",
        str,
        "",
        "fsspec URL standing for HDFS '/' (e.g. hdfs://analytics-hadoop or "
        "webhdfs://namenode:9870); default: file://<data_dir>/hdfs.",
    ),
    Setting(
        "hive.warehouse_dir",
        str,
        "",
        "HDFS path of the Hive warehouse (default: /user/hive/warehouse under files.root).",
    ),
    Setting(
        "hive.metastore_dir",
        str,
        "",
        "Directory of the embedded Derby metastore (default: <data_dir>/metastore).",
    ),
    Setting(
        "hive.metastore_uri",
        str,
        "",
        "thrift://host:9083 of the team's metastore; when set, hive.metastore_dir is unused.",
    ),
    Setting(
        "cluster.launcher",
        str,
        "an-launcher1002.eqiad.wmnet",
        "The host where refinery's jobs and systemd timers run (Refine, sqoop, canary events, "
        "reportupdater, the deletion scripts) and Kerberos commands are run from: the host "
        "every step about them names.",
        check=_site_value("launcher"),
    ),
    Setting(
        "cluster.launcher_units",
        str,
        ",".join(LAUNCHER_UNITS),
        "systemd units (shell patterns, comma-separated) that run on cluster.launcher: the "
        "host a timer's steps name when its e-mail does not say where it ran.",
    ),
    Setting(
        "cluster.cumin",
        str,
        "cumin1001.eqiad.wmnet",
        "The host cumin runs from (the offboarding's removal of home directories on every host).",
        check=_site_value("cumin"),
    ),
    Setting(
        "cluster.deployment",
        str,
        "deployment.eqiad.wmnet",
        "The deployment server (helmfile deploys of the AQS services).",
        check=_site_value("deployment"),
    ),
    Setting(
        "cluster.cloud_replica",
        str,
        "an-redacteddb1001.eqiad.wmnet",
        "The cloud (labs) wiki replicas' host: a new wiki's second replica check connects there.",
        check=_site_value("cloud_replica"),
    ),
    Setting(
        "cluster.cloud_replica_user",
        str,
        "s53272",
        "The account the cloud replicas are read with (its password stays in the team's "
        "password store).",
        check=_site_value("cloud_replica_user"),
    ),
    Setting(
        "cluster.jobs_user",
        str,
        "analytics",
        "The account the data jobs run as (Refine reruns, their YARN logs, the sqoop flags).",
        check=_site_value("jobs_user"),
    ),
    Setting(
        "cluster.hdfs_user",
        str,
        "hdfs",
        "The HDFS superuser (offboarding, fsck, the allowlist's copy in HDFS).",
        check=_site_value("hdfs_user"),
    ),
    Setting(
        "cluster.kerberos",
        str,
        "kerberos-run-command",
        "The wrapper that runs a command with an account's keytab: `sudo -u USER <this> USER "
        "command`.",
        check=_site_value("kerberos"),
    ),
    Setting(
        "refine.jobs",
        str,
        ",".join(REFINE_JOBS),
        "The Refine jobs opsweek reruns (comma-separated). A Refine e-mail about another job "
        "gets no runnable rerun: the job, like the user and the host, never comes from a mail.",
        check=_refine_jobs,
    ),
    Setting(
        "runner.allow_changes",
        str,
        "",
        "Ids of the steps that change something which opsweek may run on request (comma-"
        "separated, e.g. reset-failed,msck,restart); none by default: they stay commands for a "
        "person. Read-only steps need no listing.",
    ),
    Setting(
        "runner.timeout_minutes",
        int,
        10,
        "Minutes a step run on request may take before opsweek stops waiting for it.",
        check=_at_least_one,
    ),
    Setting(
        "refine.runner",
        str,
        "",
        "Where opsweek runs a Refine rerun on request: user@host[:port] over SSH (the host "
        "where kerberos-run-command and the Refine jobs live, an-launcher1002); none: reruns "
        "stay commands for a person.",
    ),
    Setting(
        "refine.runner_key",
        str,
        "",
        "Private key for refine.runner (default: the SSH agent and ~/.ssh keys).",
    ),
    Setting(
        "refine.runner_known_hosts",
        str,
        "",
        "known_hosts file that vouches for refine.runner (default: ~/.ssh/known_hosts).",
    ),
    Setting(
        "refine.rerun_timeout_minutes",
        int,
        120,
        "Minutes a rerun may run before opsweek stops waiting for it.",
        check=_positive,
    ),
    Setting(
        "dumps.root",
        str,
        "",
        "Where `opsweek check dumps` reads the public dumps' status files: the dumps site "
        "(https://dumps.wikimedia.org), a mirror, a directory or an fsspec URL laid out the "
        "same way (<wiki>/<YYYYMMDD>/dumpstatus.json, index.json); none: serve does not check "
        "the dumps.",
    ),
    Setting(
        "dumps.wikis",
        str,
        "",
        "Comma-separated wikis to check; none: every wiki the root's index.json names.",
    ),
    Setting(
        "dumps.stall_hours",
        int,
        48,
        "Hours without a change in a wiki's status file before its run counts as stalled "
        "(and after a run's start before a wiki that has not started is named).",
        check=_positive,
    ),
    Setting(
        "dumps.expected_days",
        int,
        14,
        "Days after its start by which every wiki of a run should be done.",
        check=_positive,
    ),
    Setting(
        "dumps.size_drop_percent",
        int,
        30,
        "A file this much smaller than the same file of the previous run is named.",
        check=_positive,
    ),
    Setting(
        "dumps.public_url",
        str,
        "https://dumps.wikimedia.org",
        "The dumps site the steps link to (each wiki's run page, the progress page).",
    ),
    Setting(
        "dumps.snapshot_host",
        str,
        "",
        "The snapshot host where the dumps operators rerun a job (worker.py); none: the steps "
        "show no rerun command.",
    ),
    Setting(
        "dumps.worker_config",
        str,
        "/etc/dumps/confs/wikidump.conf.dumps",
        "worker.py's --configfile in the rerun command (with :en, :wd or :bigwikis added for "
        "the wikis dumped with their own settings).",
    ),
    Setting(
        "dumps.big_wikis",
        str,
        "",
        "Comma-separated wikis dumped with the :bigwikis section of dumps.worker_config.",
    ),
    Setting(
        "prometheus.url",
        str,
        "",
        "Prometheus's base URL: `opsweek dashboards` shows the current value of each "
        "dashboard's `prometheus` query; none: only the links.",
    ),
    Setting(
        "maintenance.files",
        str,
        "",
        "Comma-separated TOML files of [[duties]] tables (the same fields as in opsweek.toml), "
        "each marked manual: the team's manual maintenance list, on the runbook's TODO list "
        "for automation (the handoff's noise section names them). Relative to this file.",
    ),
    Setting(
        "onboard.groups",
        str,
        "analytics-privatedata-users",
        "Comma-separated groups `opsweek onboard check` expects a new user to be in.",
    ),
    Setting(
        "offboard.task_pattern",
        str,
        r"(?i)^\s*offboard(?:ing)?\b[\s:-]+(?P<user>[a-z_][a-z0-9_-]{0,31})\b",
        "A regular expression on the titles of the tracker's ops-week column: a match opens "
        "the offboarding duty of its (?P<user>...) group, once per task; empty: offboarding "
        "starts by hand only.",
    ),
    Setting(
        "offboard.archive_dir",
        str,
        "/wmf/data/archive/user",
        "HDFS directory under which a departed user's archived files are kept.",
    ),
    Setting(
        "offboard.archive_owner",
        str,
        "hdfs:analytics-privatedata-users",
        "owner:group given to archived files (hdfs dfs -chown -R).",
    ),
    Setting(
        "offboard.summarize_above",
        int,
        50,
        "Directories with more entries than this are summarized per subdirectory.",
        check=_positive,
    ),
    Setting(
        "offboard.host_timeout",
        int,
        15,
        "Seconds allowed to reach and scan one host over SSH.",
        check=_positive,
    ),
    Setting(
        "offboard.cumin_hosts",
        str,
        "C:profile::analytics::cluster::client or C:profile::hadoop::master or "
        "C:profile::hadoop::master::standby",
        "The cumin host query in the runbook's command that removes home directories.",
    ),
    Setting(
        "warehouse.backend",
        str,
        "duckdb",
        "Where the checks' queries run: `duckdb` over Parquet/CSV under files.root, or `spark` "
        "against the Hive tables (the spark extra).",
        check=lambda v: _one_of(v, ("duckdb", "spark")),
    ),
    Setting(
        "checks.unexpected_values_table",
        str,
        "wmf.pageview_unexpected_values",
        "Table of pageview values not in the allowlist (field_name, unexpected_value, "
        "view_count; partitioned by year, month, day).",
    ),
    Setting(
        "checks.allowlist",
        str,
        "",
        "Path of allowlist.tsv in a checkout of the repository that holds it.",
    ),
    Setting(
        "checks.grouped_wikis",
        str,
        "",
        "Path of grouped_wikis.csv (the sqoop groups) in a checkout.",
    ),
    Setting(
        "checks.replica_url",
        str,
        "",
        "SQLAlchemy URL template of a wiki's database replica, e.g. "
        "mysql+pymysql://user:pw@host:3306/{wiki}; empty: replicas are not checked.",
        secret=True,
    ),
    Setting(
        "checks.mw_history_dir",
        str,
        "/wmf/data/wmf/mediawiki",
        "HDFS directory holding history, user_history, page_history and history_reduced.",
    ),
    Setting(
        "checks.mw_history_late_day",
        int,
        5,
        "Day of the month after which a missing MediaWiki history snapshot is an alert.",
        check=_positive,
    ),
    Setting(
        "airflow.poll_seconds",
        int,
        10,
        "Seconds between polls of each `[[airflow.instances]]` by `opsweek serve` (failed and "
        "up-for-retry task instances; open Airflow alerts resolved once their task succeeded); "
        "0: not polled there. After its first poll, a poll of an Airflow 3 asks only what "
        "changed since (two requests when nothing did).",
        check=_positive,
    ),
    Setting(
        "alertmanager.ack_silences",
        bool,
        True,
        "Acknowledging an Alertmanager alert in opsweek silences it in its Alertmanager "
        "(Karma's `ACK!` comment), until the alert resolves; false: acknowledgements stay in "
        "opsweek (silences made elsewhere are still shown).",
    ),
    Setting(
        "alertmanager.ack_minutes",
        int,
        60,
        "How long an acknowledgement's silence lasts; opsweek extends it while the alert "
        "fires and expires it once the alert resolves.",
        check=_at_least_one,
    ),
    Setting(
        "alertmanager.sync_seconds",
        int,
        15,
        "Seconds between `opsweek serve`'s rounds with `[[alertmanager.instances]]`: "
        "silences waiting to be sent, silences made elsewhere, acknowledgements extended or "
        "expired; 0: not there.",
        check=_positive,
    ),
    Setting(
        "airflow.druid_overlord_url",
        str,
        "",
        "The Druid overlord's URL: a failed Airflow task that loads into Druid links to the "
        "indexation log of the Druid task its Airflow log names.",
    ),
    Setting(
        "airflow.druid_console_url",
        str,
        "",
        "The Druid web console's URL, linked from the steps of a failed Druid load.",
    ),
    Setting(
        "airflow.lookback_hours",
        int,
        24,
        "How far back a poll looks for failed task instances when it has not polled before.",
        check=_at_least_one,
    ),
    Setting(
        "checks.interval_minutes",
        int,
        60,
        "Minutes between runs of the checks inside `opsweek serve`; 0: not run there.",
        check=_positive,
    ),
    Setting(
        "web.public_read",
        bool,
        True,
        "Pages and reading API calls are open to anyone who can reach the app; false: a "
        "login, an API token or the trusted header is needed to read too.",
    ),
    Setting(
        "web.workers",
        int,
        1,
        "Processes serving the web app and API; more serve more readers at once on more cores "
        "(the SMTP listener, IMAP poller, IRC bot and scheduled work stay in one process).",
        check=_at_least_one,
    ),
    Setting(
        "web.outside_refresh_minutes",
        int,
        10,
        "Minutes between readings of the tracker's ops-week column and the collaboration "
        "channel by `opsweek serve`, shown on Today; 0: only `opsweek today` reads them.",
        check=_positive,
    ),
    Setting(
        "web.page_cache_seconds",
        int,
        10,
        "A rendered page is reused while nothing was committed to the store and it is younger "
        "than this (relative times: overdue duties); 0: every page is rendered anew.",
        check=_positive,
    ),
    Setting(
        "web.max_streams",
        int,
        200,
        "Open live-update streams (/events) each web process keeps at most; beyond, a page is "
        "answered 503 for its stream (and polls instead) while pages and webhooks are served.",
        check=_at_least_one,
    ),
    Setting(
        "web.max_streams_per_client",
        int,
        20,
        "Open live-update streams one client address keeps at most (a person's tabs).",
        check=_at_least_one,
    ),
    Setting(
        "web.trusted_header",
        str,
        "",
        "Header naming the user, set by an SSO proxy in front (e.g. X-Remote-User); trusted "
        "only from web.trusted_proxies and only for team members. Empty: not used.",
    ),
    Setting(
        "web.trusted_proxies",
        str,
        "127.0.0.1,::1",
        "Addresses of the proxies whose web.trusted_header is believed, comma separated.",
    ),
    Setting(
        "web.secret_key",
        str,
        "",
        "Key that signs web sessions (default: a random key kept in <data_dir>/web-secret).",
        secret=True,
    ),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class TableList:
    """A setting written as an array of TOML tables (``[[duties]]``); the module that uses it
    checks its entries."""

    name: str
    help: str


TABLE_LISTS: tuple[TableList, ...] = (
    TableList(
        "duties",
        "Recurring duties: entries change or disable a default duty by `key`, or add one "
        "(`title`, `cron` or `every`/`at`/`day_of_month`, `grace_hours`, `steps`).",
    ),
    TableList(
        "airflow.instances",
        "Airflow instances opsweek polls and acts on: `name` (analytics, search, ...; their "
        "e-mails come from airflow-<name>), `url` (the web server), and either `token_env` "
        "(an environment variable holding a bearer token) or `user` and `password_env`; "
        "optional `cli_host`, `cli_user`, `cli` (where its CLI runs, as whom: the steps that "
        "clear and pause print it there; without, they point at the UI).",
    ),
    TableList(
        "alertmanager.instances",
        "Alertmanager instances opsweek reads silences and alerts from and writes "
        "acknowledgement silences to: `name`, `url`, optional `cluster` (instances with the "
        "same cluster are one HA cluster: written to once, read from all) and `header_env` "
        "(an environment variable holding an Authorization header's value).",
    ),
    TableList(
        "runners",
        "Hosts where opsweek runs a step on request, over SSH: `host` (as the steps name it, "
        "e.g. an-launcher1002.eqiad.wmnet), `ssh` (user@host:port), optional `key` and "
        "`known_hosts`. Read-only steps run for any logged-in person; a step that changes "
        "something only when its id is in runner.allow_changes, after its exact command is "
        "confirmed.",
    ),
    TableList(
        "dashboards",
        "Dashboards the runbook asks to monitor: `name`, `url`, `look_for` (what to look "
        "for), and an optional `prometheus` query whose current value is shown next to the "
        "link; each is a step of the daily `dashboards` duty.",
    ),
    TableList(
        "hosts",
        "Hosts scanned for a departed user's home directories: `name`, and `ssh` "
        "(user@host:port, with optional `key`, `known_hosts`, `root`) or `local_root` (a "
        "directory standing for the host's '/').",
    ),
    TableList(
        "train.projects",
        "Projects of the Tuesday deployment train: `name`, `repo` (path or URL), `branch`, and "
        "how to read the deployed version: `deployed_tag` (a glob), `deployed_file` or "
        "`deployed_command`; optional `steps`.",
    ),
)
TABLE_LISTS_BY_NAME = {t.name: t for t in TABLE_LISTS}
