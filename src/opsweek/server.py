"""What `opsweek serve` runs, as a library a test can start and stop: the web app (in this
process, or in N worker processes, each storing what it is sent), the SMTP listener and IMAP
poller, the IRC bot, and the jobs on a schedule (handoff reminders, readings of the
tracker and chat, the checks). Several servers may share one store: each job, and the bot,
runs on the one holding its leadership (opsweek.db.leadership).

    server = Server(App(settings), host, port, workers)
    server.start()      # everything but the web app
    server.serve()      # the web app, until shutdown() (or Ctrl-C)
    server.stop()"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from opsweek.adapters.mail import ImapPoller, SmtpListener
from opsweek.app import App
from opsweek.bot.ircbot import BotConfig, SalBot, run_supervised
from opsweek.db.checkpoints import WalCheckpointer
from opsweek.db.leadership import Leadership, Serving
from opsweek.errors import ConfigError
from opsweek.handoff.reminders import INTERVAL_SECONDS, send_due_reminders
from opsweek.timeutil import utcnow
from opsweek.web import create_app
from opsweek.web.worker import UVICORN_OPTIONS, settle_for_serving

log = logging.getLogger(__name__)
SAL_PUBLISH_SECONDS = 10  # how soon an entry reaches the SAL wiki page


class Every(threading.Thread):
    """Runs ``job`` every ``seconds`` until stopped; a failed run is logged and the next one
    runs as planned."""

    def __init__(self, name: str, seconds: float, job: Callable[[], object]) -> None:
        super().__init__(name=name, daemon=True)
        self.seconds = seconds
        self.job = job
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.job()
            except Exception:
                log.exception("%s failed", self.name)
            self.stopping.wait(self.seconds)

    def stop(self) -> None:
        self.stopping.set()


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"intake.smtp_listen must be host:port, not {text!r}")
    return host, int(port)


class Server:
    def __init__(
        self,
        ops: App,
        host: str | None = None,
        port: int | None = None,
        workers: int | None = None,
    ) -> None:
        settings = ops.settings
        self.ops = ops
        self.host = host or settings.web.host
        self.port = port or settings.web.port
        self.workers = workers or settings.web.workers
        self.app = create_app(ops)
        self._checkpointer: WalCheckpointer | None = None
        self._listeners: list[SmtpListener | ImapPoller] = []
        self._jobs: list[Every] = []
        self._leaderships: list[Leadership] = []
        self._serving = Serving(ops.store.engine)  # no restore while this server runs
        self._stop_bot = threading.Event()
        self._web: Any = None  # what serve() runs: a uvicorn server, or its worker supervisor

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def describe(self) -> dict[str, Any]:
        settings = self.ops.settings
        return {
            "url": self.url,
            "workers": self.workers,
            "smtp": settings.intake.smtp_listen or None,
            "imap": settings.intake.imap_host or None,
            "irc": settings.irc.server or None,
            "sal_publish": list(settings.sal.publish),
        }

    def start(self) -> None:
        """Everything but the web app: intake listeners, the IRC bot, scheduled jobs."""
        ops, settings = self.ops, self.ops.settings
        self._serving.hold_shared()
        self._checkpointer = ops.store.checkpoint_in_background()
        take = ops.alert_changes.take  # each message stored before it is answered or flagged
        intake = settings.intake
        if intake.smtp_listen:
            smtp_host, smtp_port = host_port(intake.smtp_listen)
            self._listeners.append(SmtpListener(smtp_host, smtp_port, take, intake.max_body_bytes))
        if intake.imap_host:
            self._listeners.append(
                ImapPoller(
                    intake.imap_host,
                    intake.imap_port,
                    intake.imap_user,
                    intake.imap_password,
                    intake.imap_folder,
                    intake.imap_ssl,
                    intake.imap_interval,
                    take,
                    intake.max_body_bytes,
                    lambda error: ops.keep_connection("imap", error),
                )
            )
        for listener in self._listeners:
            listener.start()
        targets = ops.reminder_targets()
        if targets:
            self._every("handoff-reminders", INTERVAL_SECONDS, lambda: self._remind(targets))
        minutes = settings.web.outside_refresh_minutes
        if minutes and (ops.tracker or ops.chat):
            self._every("tracker-and-chat", minutes * 60, self._read_tracker_and_chat)
        if settings.checks.interval_minutes:
            self._every("checks", settings.checks.interval_minutes * 60, self._run_checks)
        if settings.airflow.poll_seconds and settings.airflow_instance_entries:
            self._every("airflow", settings.airflow.poll_seconds, self._poll_airflow)
        if settings.alertmanager.sync_seconds and settings.alertmanager_entries:
            _ = ops.silencing  # a ConfigError now (a header's variable unset), not later
            self._every("alertmanager", settings.alertmanager.sync_seconds, self._sync_silences)
        if "wiki" in settings.sal.publish:
            _ = ops.sal_wiki  # a ConfigError now, not every 10 s, when sal.wiki_api is missing
            self._every("sal-publish", SAL_PUBLISH_SECONDS, self._publish_sal)
        if settings.sal.wiki_api and settings.sal.sync_minutes:
            self._every("sal-sync", settings.sal.sync_minutes * 60, self._sync_sal)
        if settings.irc.server:
            config = BotConfig.from_settings(settings.irc, settings.sal, settings.web.base_url)
            bot = self._leadership("irc-bot")  # one bot in the channel, whatever the servers
            threading.Thread(
                target=run_supervised,
                args=(lambda: SalBot(config, ops), self._stop_bot),
                kwargs={"may_run": bot.held},
                name="irc-bot",
                daemon=True,
            ).start()

    def _every(self, name: str, seconds: float, job: Callable[[], object]) -> None:
        """Run ``job`` every ``seconds`` on the one server holding its leadership."""
        leadership = self._leadership(name)
        every = Every(name, seconds, lambda: job() if leadership.held() else None)
        every.start()
        self._jobs.append(every)

    def _leadership(self, name: str) -> Leadership:
        leadership = Leadership(self.ops.store.engine, name)
        self._leaderships.append(leadership)
        return leadership

    def _remind(self, targets: set[str]) -> None:
        with self.ops.session() as session:
            send_due_reminders(self.ops.handoff(session, "opsweek"), targets)

    def _read_tracker_and_chat(self) -> None:
        with self.ops.session() as session:
            self.ops.read_tracker_and_chat(session, utcnow())

    def _poll_airflow(self) -> None:
        for why in self.ops.airflow.poll().problems.values():
            log.warning("could not poll %s", why)

    def _sync_silences(self) -> None:
        run = self.ops.silencing.sync()
        for cluster, why in run.waiting.items():
            log.warning("alertmanager %s: silences wait: %s", cluster, why)
        for cluster in self.ops.silencing.clusters:
            self.ops.keep_connection(f"alertmanager {cluster}", run.waiting.get(cluster))

    def _publish_sal(self) -> None:
        result = self.ops.publish_sal()
        if result.error:
            log.warning("SAL wiki unreachable, %d entries wait: %s", result.failed, result.error)
        self.ops.keep_connection("sal wiki", result.error)

    def _sync_sal(self) -> None:
        self.ops.sync_sal()

    def _run_checks(self) -> None:
        for failure in self.ops.checks.scheduled().failed:
            log.warning("check failed: %s", failure)

    def serve(self) -> None:
        """Serve the web app until `shutdown` (or Ctrl-C). With several workers, each builds
        its app from the same settings and stores what it is sent (`Store.writing` takes
        them one at a time)."""
        settle_for_serving()
        if self.workers == 1:
            config = uvicorn.Config(self.app, host=self.host, port=self.port, **UVICORN_OPTIONS)
            self._web = uvicorn.Server(config)
            self._web.run()
            return
        config_path = self.ops.settings.config_path
        if config_path is not None:
            os.environ["OPSWEEK_CONFIG"] = str(config_path.resolve())
        config = uvicorn.Config(
            "opsweek.web.worker:create",
            factory=True,
            workers=self.workers,
            host=self.host,
            port=self.port,
            **UVICORN_OPTIONS,
        )
        self._web = Multiprocess(config, sockets=[config.bind_socket()])
        self._web.run()

    def shutdown(self) -> None:
        """Make `serve` return (from another thread)."""
        if isinstance(self._web, uvicorn.Server):
            self._web.should_exit = True
        elif self._web is not None:
            self._web.should_exit.set()

    def stop(self) -> None:
        self._stop_bot.set()
        for job in self._jobs:
            job.stop()
        for leadership in self._leaderships:
            leadership.release()
        if self._checkpointer is not None:
            self._checkpointer.stop()
        for listener in self._listeners:
            listener.stop()
        self._serving.release()  # last: a restore may begin
