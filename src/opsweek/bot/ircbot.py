"""The SAL bot on IRC: records `!log` lines, answers `Logged the message at <url>`, answers
`!opsweek who` / `!opsweek alerts`, and (when enabled) `!ack ID` from team members. With
`sal.publish` naming `irc`, it also says opsweek's own SAL entries in the first channel as
`!log user@opsweek message` lines for the team's SAL bot (from the outbox).
Reconnects with exponential backoff when the server goes away; every entry is committed as it
arrives, so nothing recorded before a disconnect is lost."""

from __future__ import annotations

import contextlib
import functools
import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import irc.bot
import irc.client
import irc.connection
import jaraco.stream.buffer

from opsweek.app import App
from opsweek.bot.commands import Ack, LogEntry, Question, parse
from opsweek.config.areas import IrcSettings, SalSettings
from opsweek.errors import OpsweekError
from opsweek.handoff.reminders import INTERVAL_SECONDS, send_due_reminders
from opsweek.quoting import irc_text
from opsweek.rotation.team import Team
from opsweek.sal import outbox
from opsweek.sal.relay import relay_line
from opsweek.timeutil import utcnow
from opsweek.watch.channel import keep_line

log = logging.getLogger(__name__)
REMINDER_SECONDS = INTERVAL_SECONDS  # how often the bot checks whether a reminder is due
LEADER_SECONDS = 10  # how often a bot asks whether it is still the one in the channel
OUTBOX_SECONDS = 3  # how often the bot says the SAL entries waiting for IRC ...
OUTBOX_LINES = 5  # ... at most this many each time, so the server never throttles it


class ReplacingLineBuffer(jaraco.stream.buffer.DecodingLineBuffer):
    """Lines as UTF-8, a byte that is not read as U+FFFD: one bad line (another client's
    latin-1) used to raise out of the reactor and disconnect the bot, for longer each time."""

    errors = "replace"


@dataclass(frozen=True)
class BotConfig:
    server: str
    port: int
    nick: str
    channels: tuple[str, ...]
    tls: bool = False
    sasl: bool = False
    password: str = ""
    projects: tuple[str, ...] = ()
    relay_nicks: tuple[str, ...] = ()
    allow_ack: bool = False
    keep_days: int = 7
    base_url: str = ""
    default_project: str = ""
    publish: bool = False  # say opsweek's SAL entries as relayed `!log` lines
    min_reconnect: float = 2.0
    max_reconnect: float = 300.0

    @classmethod
    def from_settings(cls, irc: IrcSettings, sal: SalSettings, base_url: str) -> BotConfig:
        return cls(
            server=irc.server,
            port=irc.port,
            nick=irc.nick,
            channels=irc.channels,
            tls=irc.tls,
            sasl=irc.sasl,
            password=irc.password,
            projects=sal.projects,
            relay_nicks=irc.relay_nicks,
            allow_ack=irc.allow_ack,
            keep_days=irc.keep_days,
            base_url=base_url,
            default_project=sal.project,
            publish="irc" in sal.publish,
        )


class SalBot(irc.bot.SingleServerIRCBot):
    def __init__(self, config: BotConfig, app: App) -> None:
        connect: dict[str, Any] = {}
        if config.tls:
            context = ssl.create_default_context()
            connect["connect_factory"] = irc.connection.Factory(
                wrapper=functools.partial(context.wrap_socket, server_hostname=config.server)
            )
        if config.sasl:
            connect["sasl_login"] = config.nick
        server = irc.bot.ServerSpec(config.server, config.port, config.password or None)
        backoff = irc.bot.ExponentialBackoff(
            min_interval=config.min_reconnect, max_interval=config.max_reconnect
        )
        super().__init__([server], config.nick, "opsweek SAL bot", recon=backoff, **connect)
        self.connection.buffer_class = ReplacingLineBuffer
        self.config = config
        self.app = app
        self._scheduled = False
        self._leaving = False  # a disconnection opsweek asked for is no failure

    def run(
        self, stop: threading.Event | None = None, may_run: Callable[[], bool] = lambda: True
    ) -> None:
        """Connect and serve until ``stop`` is set (forever without one), or until
        ``may_run`` (asked every ``LEADER_SECONDS``) says another server has the channel.
        Reconnecting after a lost connection is scheduled by the bot's backoff on the same
        reactor."""
        self._connect()  # what SingleServerIRCBot.start() does first
        asked = time.monotonic()
        while stop is None or not stop.is_set():
            self.reactor.process_once(timeout=0.2)
            if time.monotonic() - asked > LEADER_SECONDS:
                asked = time.monotonic()
                if not may_run():
                    break
        self._leaving = True
        self.connection.disconnect("opsweek stopping")

    def _keep_connection(self, error: str | None) -> None:
        """How the connection went, for Today's connections panel; never stops the bot."""
        try:
            self.app.keep_connection("irc", error)
        except Exception:
            log.exception("could not keep the IRC connection's state")

    def on_disconnect(self, _connection: irc.client.ServerConnection, event: Any) -> None:
        if not self._leaving:
            why = " ".join(str(a) for a in event.arguments) or "connection closed"
            self._keep_connection(f"{self.config.server}:{self.config.port}: {why}"[:500])

    def on_welcome(self, connection: irc.client.ServerConnection, _event: Any) -> None:
        self._keep_connection(None)
        for channel in self.config.channels:
            connection.join(channel)
        if not self._scheduled:
            self._scheduled = True
            self.reactor.scheduler.execute_every(REMINDER_SECONDS, self.remind)
            if self.config.publish and self.config.channels:
                self.reactor.scheduler.execute_every(OUTBOX_SECONDS, self.publish_entries)

    def publish_entries(self) -> None:
        """Say the SAL entries waiting for IRC; each is marked published once its line was
        written to the server, and left for a retry when the connection failed first."""
        if not self.connection.is_connected():
            return
        store, channel = self.app.store, self.config.channels[0]
        try:
            rows = outbox.claim(store, "irc", utcnow(), limit=OUTBOX_LINES)
        except Exception:
            log.exception("could not read the SAL outbox")
            return
        for number, row in enumerate(rows):
            project = row.project if row.project != self.config.default_project else ""
            link = f"{self.config.base_url}/sal/{row.entry_id}"
            line = relay_line(row.nick, row.host, row.message, project, link)
            try:
                self.connection.privmsg(channel, line)
            except Exception as exc:
                log.exception("could not say SAL entry %s", row.entry_id)
                outbox.mark_failed(store, rows[number : number + 1], utcnow(), str(exc))
                outbox.release(store, rows[number + 1 :], utcnow())
                return
            outbox.mark_published(store, [row], utcnow())

    def remind(self) -> None:
        """Say the handoff reminder in every channel when it is due (once per week)."""

        def say(text: str) -> None:
            for channel in self.config.channels:
                self.connection.privmsg(channel, irc_text(text))

        if not self.connection.is_connected():
            return
        try:
            with self.app.session() as session:  # on IRC only: slack and mail are serve's
                send_due_reminders(self.app.handoff(session, outside=False), set(), say)
        except Exception:  # the bot keeps serving !log whatever happens here
            log.exception("handoff reminder on IRC failed")

    def on_pubmsg(self, connection: irc.client.ServerConnection, event: Any) -> None:
        """One line of the channel. Nothing a line holds can raise out of here: the reactor
        would stop serving the channel."""
        text = event.arguments[0] if event.arguments else ""
        sender = getattr(event.source, "nick", "") or ""
        if "\ufffd" in text:
            log.warning("a line of %s in %s was not UTF-8: %r", sender, event.target, text)
        self.keep(event.target, sender, text)
        try:
            command = parse(sender, text, self.config.projects, self.config.relay_nicks)
            if command is None:
                return
            answer = self.handle(command, sender, event.target)
        except OpsweekError as exc:
            answer = f"{sender}: {exc}"
        except Exception:  # a bad line must never take the bot down
            log.exception("could not handle %r", text)
            answer = f"{sender}: sorry, that failed; see the opsweek log"
        if answer:
            try:
                connection.privmsg(event.target, irc_text(answer))
            except Exception:  # a connection going away: the bot reconnects
                log.exception("could not answer in %s", event.target)

    def keep(self, channel: str, sender: str, text: str) -> None:
        """Keep the line for Today's mentions; a store that fails loses only this line."""
        try:
            with self.app.session() as session:
                keep_line(session, utcnow(), channel, sender, text, self.config.keep_days)
        except Exception:  # the bot keeps serving !log whatever happens here
            log.exception("could not keep a line of %s", channel)

    def handle(self, command: LogEntry | Question | Ack, sender: str, channel: str) -> str:
        with self.app.session() as session:
            if isinstance(command, LogEntry):
                entry = self.app.sal(session).append(
                    command.nick,
                    command.message,
                    actor=sender,  # a relay bot's line credits the user, recorded by the bot
                    channel=channel,
                    project=command.project or self.config.default_project,
                    host=command.host,
                    source="irc",
                )
                return f"Logged the message at {self.config.base_url}/sal/{entry.id}"
            if isinstance(command, Question):
                return self._answer(session, command.topic)
            if not self.config.allow_ack:
                return ""
            person = Team(session).by_irc_nick(sender)
            if person is None:
                return f"{sender}: only team members can !ack (set your IRC nick in opsweek)"
            username = person.username
        alert = self.app.alert_changes.ack(command.alert_id, username)  # serve sends its silence
        return f"alert {alert.id} acknowledged by {username}: {alert.title[:200]}"

    def _answer(self, session: Any, topic: str) -> str:
        if topic == "who":
            duty = self.app.rotation(session, "irc").who()
            tz = self.app.timezone
            if duty.current is None:
                return "nobody is on ops duty (the rotation is not planned)"
            until = duty.current.ends_at.astimezone(tz).strftime("%a %d %b %H:%M %Z")
            after = f"; next: {duty.next.username}" if duty.next else ""
            return f"{duty.current.username} is on ops duty until {until}{after}"
        counts = self.app.inbox(session).counts(open_only=True)
        open_alerts = counts["firing"] + counts["acknowledged"]
        return (
            f"{open_alerts} open alert(s), {counts['firing']} unacknowledged: "
            f"{self.config.base_url}/inbox"
        )


def run_supervised(
    make_bot: Callable[[], SalBot],
    stop: threading.Event,
    min_backoff: float = 2.0,
    max_backoff: float = 300.0,
    may_run: Callable[[], bool] = lambda: True,
) -> None:
    """Run the bot until ``stop`` is set, whatever ends it: an exception out of its loop, or
    its loop returning, starts a new bot after a backoff (doubled each time, back to the
    minimum once a bot ran for a while). ``may_run``: whether this server is the one to have
    a bot in the channel now (several servers on one store); asked again every few seconds."""
    backoff = min_backoff
    while not stop.is_set():
        if not may_run():
            stop.wait(LEADER_SECONDS / 2)
            continue
        began = time.monotonic()
        bot = None
        try:
            bot = make_bot()
            bot.run(stop, may_run)
        except Exception:
            log.exception("the IRC bot stopped; starting it again in %.0f s", backoff)
            if bot is not None:  # let its nick go, so the next bot gets it
                with contextlib.suppress(Exception):
                    bot.connection.disconnect("opsweek restarting")
        if stop.is_set():
            return
        if time.monotonic() - began > max_backoff:
            backoff = min_backoff
        stop.wait(backoff)
        backoff = min(backoff * 2, max_backoff)
