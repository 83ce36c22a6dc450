"""The composition root: builds the store, the adapters and the services from the settings,
each once, on first use. The interfaces (CLI, web app, IRC bot, `opsweek serve`) get what they
need from here and nothing below reads the settings by name; tests build an `App` with their
own store and fakes (``App(settings, store=store, chat=FakeChat())``).

Adapters and services are imported where they are built: a command pays only for the
libraries it uses (Spark, DuckDB, SSH, Slack, the web framework)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from opsweek.config import Settings
from opsweek.errors import BadInput, ConfigError, OpsweekError
from opsweek.timeutil import utcnow, zone

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from opsweek.adapters.airflow import AirflowClient
    from opsweek.adapters.alertmanager import AlertmanagerCluster
    from opsweek.adapters.chat import Chat
    from opsweek.adapters.fs import Files
    from opsweek.adapters.hive import HiveMetastore, MetastoreConfig
    from opsweek.adapters.hosts import Host, SshHost
    from opsweek.adapters.mailer import SmtpMailer
    from opsweek.adapters.prometheus import Prometheus
    from opsweek.adapters.tracker import Tracker
    from opsweek.adapters.warehouse import Warehouse
    from opsweek.alerts.acks import AckPolicy
    from opsweek.alerts.changes import AlertChanges
    from opsweek.alerts.service import Inbox
    from opsweek.alerts.triage import FlapRule
    from opsweek.checks.airflow import AirflowWatch
    from opsweek.checks.refine import PartitionState
    from opsweek.checks.refine_rerun import RefineRunner
    from opsweek.checks.silencing import Silencing
    from opsweek.checks.step_runs import StepRunner
    from opsweek.checks.verify import Verifier
    from opsweek.checks.workflows import Checks
    from opsweek.config.areas import DumpsSettings
    from opsweek.db.models import Alert
    from opsweek.db.session import Store
    from opsweek.duties.dashboards import Dashboard
    from opsweek.duties.definitions import DutyBook
    from opsweek.duties.service import Duties
    from opsweek.duties.today import ChannelWatch, TodayView
    from opsweek.duties.train import TrainProject
    from opsweek.handoff.decisions import Decisions
    from opsweek.handoff.service import HandoffConfig, HandoffService
    from opsweek.offboard.service import OffboardAdapters, Offboarding
    from opsweek.rotation.service import Rotation
    from opsweek.rotation.views import RotationConfig
    from opsweek.sal.log import SalLog
    from opsweek.sal.publish import Published, Synced, WikiPage
    from opsweek.site import Site
    from opsweek.steps import Step
    from opsweek.watch.readings import Reading

_NOT_GIVEN: Any = object()


class App:
    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        tracker: Tracker | None = _NOT_GIVEN,
        chat: Chat | None = _NOT_GIVEN,
        mailer: SmtpMailer | None = _NOT_GIVEN,
        files: Files | None = _NOT_GIVEN,
        hosts: list[Host] | None = None,
    ) -> None:
        self.settings = settings
        self._store = store
        self._given = {
            name: value
            for name, value in (
                ("tracker", tracker),
                ("chat", chat),
                ("mailer", mailer),
                ("files", files),
            )
            if value is not _NOT_GIVEN
        }
        self._hosts = hosts

    # --- the store ----------------------------------------------------------------------
    @property
    def store(self) -> Store:
        if self._store is None:
            from opsweek.db.session import open_store

            database = self.settings.database
            self._store = open_store(database.url, synchronous=database.sqlite_synchronous)
        self._store.sal_publish = self.settings.sal.publish
        return self._store

    @cached_property
    def ack_policy(self) -> AckPolicy | None:
        """What acknowledging an Alertmanager alert does there; None when nothing
        (no ``[[alertmanager.instances]]``, or ``alertmanager.ack_silences = false``)."""
        entries = self.settings.alertmanager_entries
        settings = self.settings.alertmanager
        if not entries or not settings.ack_silences:
            return None
        from opsweek.alerts.acks import AckPolicy

        urls = {
            str(e.get("url") or "").rstrip("/"): str(e.get("cluster") or e.get("name"))
            for e in entries
        }
        clusters = tuple(dict.fromkeys(urls.values()))
        return AckPolicy(clusters, settings.ack_minutes, self.settings.web.base_url, urls)

    @cached_property
    def alertmanagers(self) -> dict[str, AlertmanagerCluster]:
        """The ``[[alertmanager.instances]]``, by cluster (an HA pair is one)."""
        from opsweek.adapters.alertmanager import AlertmanagerCluster, clusters

        return {
            name: AlertmanagerCluster(name, instances)
            for name, instances in clusters(self.settings.alertmanager_entries).items()
        }

    @cached_property
    def silencing(self) -> Silencing:
        """Silences both ways with ``[[alertmanager.instances]]`` (none: nothing to do)."""
        from opsweek.checks.silencing import Silencing

        return Silencing(
            self.store,
            self.alert_changes,
            self.alertmanagers,
            self.settings.alertmanager.ack_minutes,
            self.ack_policy,
        )

    def acknowledge(self, alert_id: int, actor: str, note: str = "") -> Alert:
        """Acknowledge an alert, and send its silence to Alertmanager at once when it is
        one of its alerts (when that cannot be done now, `opsweek serve` sends it later)."""
        alert = self.alert_changes.ack(alert_id, actor, note=note)
        self.send_silences()
        return alert

    def send_silences(self) -> None:
        """Send what waits for Alertmanager now, if any is configured."""
        if self.settings.alertmanager_entries:
            self.silencing.sync()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        with self.store.session() as session:
            yield session

    def close(self) -> None:
        prometheus = self.__dict__.get("prometheus")
        if prometheus is not None:
            prometheus.close()
        if self._store is not None:
            self._store.close()
            self._store = None

    # --- what the settings mean, parsed once ---------------------------------------------
    @property
    def user(self) -> str:
        """Who acts from this machine (`user`, else the login name)."""
        return self.settings.user

    @cached_property
    def timezone(self) -> ZoneInfo:
        return zone(self.settings.team_timezone)

    @cached_property
    def site(self) -> Site:
        """Where the runbook's commands run and as whom (`[cluster]`, `refine.jobs`)."""
        from opsweek.adapters.airflow import AirflowInstance
        from opsweek.site import Site

        cluster = self.settings.cluster
        return Site(
            launcher=cluster.launcher,
            cumin=cluster.cumin,
            deployment=cluster.deployment,
            cloud_replica=cluster.cloud_replica,
            cloud_replica_user=cluster.cloud_replica_user,
            jobs_user=cluster.jobs_user,
            hdfs_user=cluster.hdfs_user,
            kerberos=cluster.kerberos,
            refine_jobs=self.settings.refine.jobs,
            launcher_units=cluster.launcher_units,
            airflow_clis=tuple(
                instance.cli_site()
                for instance in map(
                    AirflowInstance.from_entry, self.settings.airflow_instance_entries
                )
                if instance.cli_host
            ),
        )

    @cached_property
    def rotation_config(self) -> RotationConfig:
        from opsweek.rotation.views import RotationConfig

        return RotationConfig.from_settings(self.settings.rotation)

    @cached_property
    def duty_book(self) -> DutyBook:
        from opsweek.duties.service import duty_book

        return duty_book(
            self.settings.rotation,
            self.settings.duties,
            self.settings.duty_entries,
            self.dashboards,
        )

    @cached_property
    def prometheus(self) -> Prometheus | None:
        """The Prometheus the dashboards' queries ask (`prometheus.url`); None without one."""
        if not self.settings.prometheus_url:
            return None
        from opsweek.adapters.prometheus import Prometheus

        return Prometheus(self.settings.prometheus_url)

    @cached_property
    def dashboards(self) -> list[Dashboard]:
        """The `[[dashboards]]` to look at every day."""
        from opsweek.duties.dashboards import dashboards_from

        return dashboards_from(self.settings.dashboard_entries)

    @cached_property
    def flap_rule(self) -> FlapRule:
        from opsweek.alerts.triage import FlapRule

        alerts = self.settings.alerts
        return FlapRule(alerts.flap_threshold, timedelta(minutes=alerts.flap_window_minutes))

    @cached_property
    def handoff_config(self) -> HandoffConfig:
        from opsweek.handoff.service import HandoffConfig

        chat, mail = self.settings.chat, self.settings.mail
        return HandoffConfig(
            timezone=self.timezone,
            noise_weeks=self.settings.handoff.noise_weeks,
            reminder_hours=self.settings.duties.reminder_hours,
            collab_channel=chat.collab_channel,
            answer_hours=chat.answer_hours,
            team_channel=chat.team_channel,
            alerts_list=mail.alerts_list,
            dumps_instances=self.dumps_instances,
        )

    @cached_property
    def airflow_urls(self) -> dict[str, str]:
        """The configured Airflow instances' names and web addresses."""
        return {
            str(entry.get("name")): str(entry.get("url") or "")
            for entry in self.settings.airflow_instance_entries
        }

    @cached_property
    def dumps_instances(self) -> frozenset[str]:
        """The Airflow instances running the dumps' DAGs (``area = "dumps"``)."""
        return frozenset(
            str(entry.get("name"))
            for entry in self.settings.airflow_instance_entries
            if entry.get("area") == "dumps"
        )

    @cached_property
    def train_projects(self) -> list[TrainProject]:
        from opsweek.duties.train import load_projects

        return load_projects(self.settings.train_project_entries)

    # --- adapters: None where not configured ----------------------------------------------
    @cached_property
    def tracker(self) -> Tracker | None:
        if "tracker" in self._given:
            return self._given["tracker"]  # type: ignore[no-any-return]
        tracker = self.settings.tracker
        if tracker.kind != "phabricator":
            return None
        if not tracker.url:
            raise ConfigError("tracker.kind is phabricator but tracker.url is not set")
        from opsweek.adapters.phabricator import PhabricatorTracker

        return PhabricatorTracker(
            tracker.url, tracker.token, tracker.column_phid, timeout=tracker.timeout
        )

    @cached_property
    def chat(self) -> Chat | None:
        if "chat" in self._given:
            return self._given["chat"]  # type: ignore[no-any-return]
        chat = self.settings.chat
        if chat.kind != "slack":
            return None
        from opsweek.adapters.slack import SlackChat

        return SlackChat(chat.base_url, chat.token, chat.timeout)

    @cached_property
    def mailer(self) -> SmtpMailer | None:
        if "mailer" in self._given:
            return self._given["mailer"]  # type: ignore[no-any-return]
        mail = self.settings.mail
        if not mail.smtp_host:
            return None
        from opsweek.adapters.mailer import SmtpMailer

        return SmtpMailer(
            mail.smtp_host,
            mail.smtp_port,
            mail.smtp_starttls,
            mail.smtp_user,
            mail.smtp_password,
            mail.sender,
        )

    def require_mailer(self) -> SmtpMailer:
        if self.mailer is None:
            raise ConfigError("mail.smtp_host is not set: opsweek cannot send mail")
        return self.mailer

    @cached_property
    def files(self) -> Files:
        """HDFS (or the local directory standing for it); raises when it cannot be reached."""
        if self._given.get("files") is not None:
            return self._given["files"]  # type: ignore[no-any-return]
        from opsweek.adapters.fs import Files

        return Files(self.settings.files.root)

    def hosts(self) -> list[Host]:
        """The ``[[hosts]]`` scanned for a departed user's files; without any, this machine."""
        if self._hosts is not None:
            return self._hosts
        from opsweek.adapters.hosts import LocalHost, hosts_from

        entries = self.settings.host_entries
        if not entries:
            import socket

            return [LocalHost(socket.gethostname(), "/")]
        return hosts_from(entries, self.settings.offboard.host_timeout)

    def metastore_config(self, files: Files | None) -> MetastoreConfig:
        from opsweek.adapters.hive import MetastoreConfig

        hive = self.settings.hive
        warehouse = files.url(hive.warehouse_dir) if files else hive.warehouse_dir
        return MetastoreConfig(warehouse, hive.metastore_dir, hive.metastore_uri)

    @contextmanager
    def metastore(self) -> Iterator[HiveMetastore]:
        """The Hive metastore, through a local Spark session (the spark extra)."""
        from opsweek.adapters.hive import HiveMetastore, spark_session

        hive = self.settings.hive
        try:
            files: Files | None = self.files
        except OpsweekError:
            files = None  # the metastore may still answer; its locations say where files are
        with spark_session(self.metastore_config(files)) as spark:
            yield HiveMetastore(spark, None if hive.metastore_uri else hive.metastore_dir)

    @contextmanager
    def warehouse(self) -> Iterator[Warehouse]:
        """Where the checks' queries run: DuckDB over the local files, or Spark."""
        from pathlib import Path

        from opsweek.adapters.warehouse import DuckDBWarehouse, SparkWarehouse

        if self.settings.warehouse.backend == "spark":
            from opsweek.adapters.hive import spark_session

            with spark_session(self.metastore_config(self.files)) as spark:
                yield SparkWarehouse(spark)
            return
        files = self.files
        if not files.is_local():
            raise ConfigError("warehouse.backend duckdb reads local files; use spark for HDFS")
        yield DuckDBWarehouse(Path(files.real(self.settings.hive.warehouse_dir)))

    @cached_property
    def replica_tables(self) -> Callable[[str], int] | None:
        """How many tables a wiki's replica has (`checks.replica_url`); None when not set."""
        url = self.settings.checks.replica_url
        if not url:
            return None
        from opsweek.adapters.replicas import table_count

        return lambda wiki: table_count(url, wiki)

    @cached_property
    def offboarding(self) -> Offboarding:
        """Offboarding's check, plan and execute, on the configured adapters."""
        from opsweek.offboard.service import Offboarding, offboard_adapters

        settings = self.settings

        def connect(with_hive: bool) -> AbstractContextManager[OffboardAdapters]:
            return offboard_adapters(
                lambda: self.files,
                self.hosts(),
                self.metastore,
                settings.hive.warehouse_dir,
                settings.offboard.summarize_above,
                with_hive,
            )

        return Offboarding(
            self.store,
            self.duties,
            connect,
            self.tracker,
            settings.offboard,
            settings.hive.warehouse_dir,
            self.user,
        )

    # --- services -------------------------------------------------------------------------
    def rotation(
        self, session: Session, actor: str | None = None, now: datetime | None = None
    ) -> Rotation:
        from opsweek.rotation.service import Rotation

        return Rotation(session, self.rotation_config, actor or self.user, now)

    def duties(
        self, session: Session, actor: str | None = None, now: datetime | None = None
    ) -> Duties:
        from opsweek.duties.service import Duties

        return Duties(session, self.duty_book, self.timezone, actor or self.user, now)

    def inbox(self, session: Session) -> Inbox:
        from opsweek.alerts.service import Inbox

        return Inbox(session)

    @cached_property
    def alert_changes(self) -> AlertChanges:
        """The one way alert state changes (intake, acks, resolutions, notes, findings)."""
        from opsweek.alerts.changes import AlertChanges

        return AlertChanges(self.store, self.flap_rule, self.ack_policy)

    def sal(self, session: Session) -> SalLog:
        from opsweek.sal.log import SalLog

        return SalLog(session)

    def decisions(self, session: Session) -> Decisions:
        """Decisions taken with part of the team, recorded as this machine's user."""
        from opsweek.handoff.decisions import Decisions

        return Decisions(session, self.user)

    def handoff(
        self,
        session: Session,
        actor: str | None = None,
        now: datetime | None = None,
        outside: bool = True,
    ) -> HandoffService:
        """The handoff of a week. ``outside=False``: from the store alone, without asking the
        tracker and the chat (pages never wait on them)."""
        from opsweek.handoff.service import HandoffService

        now = now or utcnow()
        actor = actor or self.user
        return HandoffService(
            session,
            self.rotation(session, actor, now),
            self.duties(session, actor, now),
            self.handoff_config,
            tracker=self.tracker if outside else None,
            chat=self.chat if outside else None,
            mailer=self.mailer if outside else None,
            actor=actor,
            now=now,
        )

    def read_tracker_and_chat(self, session: Session, now: datetime | None = None) -> Reading:
        """Ask the tracker and the chat now, and keep what they said."""
        from opsweek.offboard.from_tracker import compile_pattern, start_offboarding
        from opsweek.watch.readings import keep, read

        now = now or utcnow()
        reading = read(session, self.tracker, self.chat, self.settings.chat, now)
        keep(session, reading, now)
        pattern = compile_pattern(self.settings.offboard.task_pattern)
        if reading.tasks and pattern is not None:
            start_offboarding(self.duties(session, now=now), reading.tasks, pattern)
        return reading

    def connection_names(self) -> list[str]:
        """The connections opsweek uses on its own that the settings configure, as Today's
        panel names them."""
        s = self.settings
        names = ["imap"] if s.intake.imap_host else []
        names += [f"alertmanager {name}" for name in self.alertmanagers]
        names += [f"airflow {name}" for name in self.airflow_urls]
        names += [n for n, on in (("tracker", self.tracker), ("chat", self.chat)) if on]
        names += ["sal wiki"] if s.sal.wiki_api else []
        names += ["irc"] if s.irc.server else []
        return names

    def keep_connection(self, name: str, error: str | None) -> None:
        """Keep how a connection's last use went, for Today's panel."""
        from opsweek.watch.readings import keep_connection

        with self.session() as session:
            keep_connection(session, name, utcnow(), error)

    def today(self, session: Session, now: datetime | None = None) -> TodayView:
        from opsweek.duties.today import gather_today

        now = now or utcnow()
        view = gather_today(
            self.rotation(session, now=now),
            self.duties(session, now=now),
            self.inbox(session),
            self.read_tracker_and_chat(session, now),
            now,
            self.channel_watch(session),
            self.dumps_instances,
        )
        from opsweek.watch.readings import airflow_polls, connections

        if self.airflow_urls:
            view.airflow = airflow_polls(session, self.airflow_urls)
        view.connections = connections(session, self.connection_names())
        return view

    def channel_watch(self, session: Session) -> ChannelWatch | None:
        """What Today needs to pick the IRC lines that matter; None without a bot."""
        from opsweek.duties.today import ChannelWatch
        from opsweek.rotation.team import Team

        irc = self.settings.irc
        if not irc.server:
            return None
        nicks = Team(session).irc_nicks()
        return ChannelWatch(
            timedelta(hours=irc.mentions_hours), irc.watch_words, nicks, (irc.nick,)
        )

    @cached_property
    def airflow_clients(self) -> dict[str, AirflowClient]:
        """A client of each of the `[[airflow.instances]]`, by name."""
        from opsweek.adapters.airflow import AirflowClient, AirflowInstance

        clients = {}
        for entry in self.settings.airflow_instance_entries:
            instance = AirflowInstance.from_entry(entry)
            clients[instance.name] = AirflowClient(instance)
        return clients

    @cached_property
    def airflow(self) -> AirflowWatch:
        """The configured Airflow instances, polled and acted on (`[[airflow.instances]]`)."""
        from opsweek.checks.airflow import AirflowWatch

        clients = self.airflow_clients
        settings = self.settings.airflow
        lookback = timedelta(hours=settings.lookback_hours)
        druid = {
            "overlord_url": settings.druid_overlord_url,
            "console_url": settings.druid_console_url,
        }
        return AirflowWatch(clients, self.store, self.alert_changes, lookback, druid=druid)

    @cached_property
    def sal_wiki(self) -> WikiPage | None:
        """The team's SAL page (`sal.wiki_api`, `sal.wiki_page`); None when not set."""
        sal = self.settings.sal
        if not sal.wiki_api:
            if "wiki" in sal.publish:
                raise ConfigError("sal.publish names wiki, but sal.wiki_api is not set")
            return None
        from opsweek.adapters.mediawiki import MediaWikiPage

        return MediaWikiPage(sal.wiki_api, sal.wiki_page, sal.wiki_user, sal.wiki_password)

    def publish_sal(self) -> Published:
        """Publish the SAL entries waiting for the wiki page now."""
        from opsweek.sal.publish import publish_to_wiki

        page = self.sal_wiki
        if page is None or "wiki" not in self.settings.sal.publish:
            raise ConfigError("publishing to the SAL wiki is off (sal.publish, sal.wiki_api)")
        return publish_to_wiki(self.store, page)

    def sync_sal(self) -> Synced:
        """Read the SAL page's entries logged elsewhere into opsweek's SAL."""
        from opsweek.sal.publish import sync_from_wiki

        page = self.sal_wiki
        if page is None:
            raise ConfigError("sal.wiki_api is not set: there is no SAL page to read")
        irc = self.settings.irc
        relays = (*irc.relay_nicks, irc.nick)
        return sync_from_wiki(self.store, page, self.settings.sal.project, relays)

    @property
    def dumps_settings(self) -> DumpsSettings:
        return self.settings.dumps

    @cached_property
    def refine_runner(self) -> RefineRunner:
        """Refine reruns on request, on `[refine] runner` (none: they stay commands)."""
        from opsweek.adapters.hosts import SshHost
        from opsweek.checks.refine_rerun import RefineRunner

        refine = self.settings.refine
        host = None
        if refine.runner:
            name = refine.runner.rpartition("@")[2].partition(":")[0]
            host = SshHost(
                name,
                refine.runner,
                self.settings.offboard.host_timeout,
                refine.runner_key,
                refine.runner_known_hosts,
            )

        def check(alert_id: int) -> PartitionState | None:
            try:
                states = self.checks.refine([alert_id])
            except BadInput:
                return None  # resolved meanwhile: nothing left to check
            return states[0] if states else None

        return RefineRunner(
            host, self.store, self.alert_changes, check, self.site, refine.rerun_timeout_minutes
        )

    @cached_property
    def runner_hosts(self) -> dict[str, SshHost]:
        """The hosts steps run on: the `[[runners]]`, and the Refine runner's launcher."""
        from opsweek.adapters.hosts import SshHost
        from opsweek.checks.step_runs import runners_from

        runner, refine = self.settings.runner, self.settings.refine
        runners = runners_from(self.settings.runner_entries, runner.timeout_minutes * 60.0)
        if refine.runner and self.site.launcher not in runners:  # the Refine runner's host
            runners[self.site.launcher] = SshHost(
                self.site.launcher,
                refine.runner,
                runner.timeout_minutes * 60.0,
                refine.runner_key,
                refine.runner_known_hosts,
            )
        return runners

    @cached_property
    def step_runner(self) -> StepRunner:
        """An alert's steps run on request, on the `[[runners]]` (none: they stay commands)."""
        from opsweek.alerts.runbook import steps_for
        from opsweek.checks.step_runs import StepRunner

        runner = self.settings.runner
        runners = self.runner_hosts

        def steps_of(alert_id: int) -> list[Step]:
            with self.session() as session:
                alert = self.inbox(session).get(alert_id)
                return steps_for(
                    alert.kind,
                    alert.details,
                    alert.first_seen,
                    alert.last_seen,
                    alert.id,
                    self.site,
                )

        def query(sql: str) -> str:
            with self.warehouse() as warehouse:
                return warehouse.query(sql)

        steps = StepRunner(
            self.store,
            self.alert_changes,
            steps_of,
            runners,
            frozenset(runner.allow_changes),
            runner.timeout_minutes,
            query,
        )
        steps.after_change = lambda alert_id: self.verifier.run([alert_id])
        return steps

    @cached_property
    def verifier(self) -> Verifier:
        """Whether a problem is over, for the alerts opsweek can check (opsweek.checks.verify)."""
        from opsweek.adapters.druid import task_status
        from opsweek.checks.verify import Verifier

        def files() -> Files | None:
            try:
                return self.files
            except OpsweekError:
                return None

        overlord = self.settings.airflow.druid_overlord_url
        return Verifier(
            self.store,
            self.alert_changes,
            self.step_runner,
            files,
            (lambda task_id: task_status(overlord, task_id)) if overlord else None,
        )

    @cached_property
    def checks(self) -> Checks:
        """The checks' workflows (the same from the CLI, the schedule or Airflow)."""
        from opsweek.checks.workflows import Checks

        files_configured = self.settings.sources.get("files.root", "default") != "default"
        return Checks(self, self.settings.checks, self.settings.data_dir, files_configured)

    def reminder_targets(self) -> set[str]:
        """Where handoff reminders can go as configured: ``slack``, ``email``."""
        targets = set()
        if self.chat is not None and self.settings.chat.team_channel:
            targets.add("slack")
        if self.mailer is not None:
            targets.add("email")
        return targets
