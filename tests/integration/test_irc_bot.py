"""The SAL bot against a real ngIRCd on 127.0.0.1: a `!log` from a second client is stored
within a second and answered; the bot survives a server restart; it answers questions and,
when enabled, `!ack` from team members."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import opsweek.bot.ircbot as ircbot
from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.bot.ircbot import BotConfig, SalBot
from opsweek.config import load_settings
from opsweek.db.models import Alert, ChannelLine, SalEntry
from opsweek.db.session import Store, open_store
from opsweek.rotation.people import PersonRecord
from opsweek.rotation.service import Rotation
from opsweek.rotation.team import Team
from opsweek.rotation.views import RotationConfig
from opsweek.sal.log import SalLog
from opsweek.sal.outbox import summary
from opsweek.watch.readings import Connection, connections
from tests.alerts.helpers import raw_inputs
from tests.services.ngircd import IrcClient, IrcServer, ngircd

pytestmark = pytest.mark.integration
CHANNEL = "#wikimedia-analytics"


@pytest.fixture
def irc_server() -> Iterator[IrcServer]:
    with ngircd() as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'irc.db'}")
    with store.writing() as session:
        Team(session).add(PersonRecord("ann", "Ann", irc_nick="ann_irc"))
        AlertChanges(store).ingest(raw_inputs("airflow_task_failed.eml"), None, session)
    yield store
    store.close()


@pytest.fixture
def bot(irc_server: IrcServer, store: Store) -> Iterator[SalBot]:
    settings = load_settings(
        env={**os.environ, "OPSWEEK_WEB_BASE_URL": "https://opsweek.example.org"}
    )
    config = BotConfig(
        server="127.0.0.1",
        port=irc_server.port,
        nick="opsweek-bot",
        channels=(CHANNEL,),
        projects=("analytics", "analytics-dumps"),
        relay_nicks=("logmsgbot",),
        allow_ack=True,
        base_url="https://opsweek.example.org",
        default_project="analytics",
        min_reconnect=0.5,
        max_reconnect=2,
    )
    bot = SalBot(config, App(settings, store=store))
    stop = threading.Event()
    thread = threading.Thread(target=bot.run, args=(stop,), daemon=True)
    thread.start()
    yield bot
    stop.set()
    thread.join(timeout=10)


def entries(store: Store) -> list[SalEntry]:
    with store.session() as session:
        return list(session.scalars(select(SalEntry).order_by(SalEntry.id)))


def join(client: IrcClient) -> IrcClient:
    """Join the channel and wait until the bot is in it too."""
    if "opsweek-bot" not in client.join(CHANNEL):
        client.wait_for(
            lambda line: line.startswith(":opsweek-bot!") and " JOIN " in line, timeout=15
        )
    return client


def test_log_is_stored_within_a_second_and_answered(
    irc_server: IrcServer, bot: SalBot, store: Store
) -> None:
    alice = IrcClient(irc_server.port, "alice")
    join(alice)
    began = time.monotonic()
    alice.say(CHANNEL, "!log reran refine_event for event.mediawiki_foo 2024-01-02T03 (T123456)")
    answer = alice.wait_for(lambda line: "Logged the message at" in line)
    elapsed = time.monotonic() - began
    assert elapsed < 1.0, elapsed
    (entry,) = entries(store)
    assert (entry.nick, entry.channel, entry.project, entry.source) == (
        "alice",
        CHANNEL,
        "analytics",
        "irc",
    )
    assert answer.endswith(f"https://opsweek.example.org/sal/{entry.id}")

    alice.say(CHANNEL, "!log analytics-dumps \x02bold\x02 restarted dumps on snapshot1010")
    alice.wait_for(lambda line: "Logged the message at" in line)
    alice.say(CHANNEL, "just chatting, not a log line")
    alice.say(CHANNEL, "!opsweek alerts")
    assert "1 open alert(s), 1 unacknowledged" in alice.wait_for(lambda line: "open alert" in line)
    second = entries(store)[1]
    assert (second.project, second.message) == (
        "analytics-dumps",
        "bold restarted dumps on snapshot1010",
    )
    assert len(entries(store)) == 2
    alice.close()


def test_relayed_lines_credit_the_user(irc_server: IrcServer, bot: SalBot, store: Store) -> None:
    relay = IrcClient(irc_server.port, "logmsgbot")
    join(relay)
    relay.say(CHANNEL, "!log elukey@cumin1001 restart hive-server2 on an-coord1001")
    relay.wait_for(lambda line: "Logged the message at" in line)
    (entry,) = entries(store)
    assert (entry.nick, entry.host, entry.message) == (
        "elukey",
        "cumin1001",
        "restart hive-server2 on an-coord1001",
    )
    relay.close()


def test_ack_only_for_team_members(irc_server: IrcServer, bot: SalBot, store: Store) -> None:
    stranger = IrcClient(irc_server.port, "stranger")
    join(stranger)
    stranger.say(CHANNEL, "!ack 1")
    assert "only team members" in stranger.wait_for(lambda line: "stranger:" in line)
    ann = IrcClient(irc_server.port, "ann_irc")
    join(ann)
    ann.say(CHANNEL, "!ack 1")
    assert "acknowledged by ann" in ann.wait_for(lambda line: "acknowledged by" in line)
    with store.session() as session:
        alert = session.get(Alert, 1)
        assert alert is not None and alert.acked_by == "ann"
    assert entries(store)[-1].message.startswith("acked alert 1 ")
    stranger.close()
    ann.close()


def test_bot_survives_a_server_restart(irc_server: IrcServer, bot: SalBot, store: Store) -> None:
    alice = IrcClient(irc_server.port, "alice")
    join(alice)
    alice.say(CHANNEL, "!log before the restart")
    alice.wait_for(lambda line: "Logged the message at" in line)
    alice.close()
    assert irc_connection(store).ok_at is not None and not irc_connection(store).failing
    irc_server.stop()
    time.sleep(1)
    down = irc_connection(store)  # Today's connections panel says so
    assert down.failing and str(irc_server.port) in (down.error or ""), down
    irc_server.start()
    bob = IrcClient(irc_server.port, "bob")
    join(bob)  # the bot reconnected and rejoined
    bob.say(CHANNEL, "!log after the restart")
    bob.wait_for(lambda line: "Logged the message at" in line)
    assert [e.message for e in entries(store)] == ["before the restart", "after the restart"]
    assert not irc_connection(store).failing
    bob.close()


def irc_connection(store: Store) -> Connection:
    with store.session() as session:
        (found,) = connections(session, ["irc"])
    return found


def test_bot_says_the_handoff_reminder_once(
    irc_server: IrcServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: datetime
) -> None:
    monkeypatch.setattr(ircbot, "REMINDER_SECONDS", 0.5)
    handoff = now + timedelta(hours=1)  # the handoff is in an hour: remind now
    settings = load_settings(
        env={
            "OPSWEEK_ROTATION_HANDOFF_WEEKDAY": handoff.strftime("%A").lower(),
            "OPSWEEK_ROTATION_HANDOFF_TIME": handoff.strftime("%H:%M"),
        }
    )
    store = open_store(f"sqlite:///{tmp_path / 'remind.db'}")
    with store.session() as session:
        team = Team(session)
        team.add(PersonRecord("ann", "Ann"))
        team.add(PersonRecord("bob", "Bob"))
        config = RotationConfig.from_settings(settings.rotation)
        Rotation(session, config, "test", now - timedelta(days=7)).plan(3)
    config = BotConfig("127.0.0.1", irc_server.port, "opsweek-bot", (CHANNEL,))
    bot = SalBot(config, App(settings, store=store))
    stop = threading.Event()
    thread = threading.Thread(target=bot.run, args=(stop,), daemon=True)
    carol = IrcClient(irc_server.port, "carol")
    carol.join(CHANNEL)
    thread.start()
    try:
        said = carol.wait_for(lambda line: "Ops week handoff at" in line, timeout=20)
        assert "hands over to" in said
        assert ("ann hands over to bob" in said) or ("bob hands over to ann" in said)
        later = list(carol.lines(2.5))  # several more checks: said once per week only
        assert not any("Ops week handoff at" in line for line in later)
    finally:
        stop.set()
        thread.join(timeout=10)
        carol.close()
        store.close()


@pytest.mark.parametrize(
    "line", ["!ack ²", "!ack ٣", "!ack #", "!ack 99999999999999999999999", "!ack 1\u200b"]
)
def test_no_line_takes_the_bot_down(
    irc_server: IrcServer, bot: SalBot, store: Store, line: str
) -> None:
    """`!ack ²` used to raise out of the handler ("²".isdigit() is true, int("²") is not)
    and kill the bot for good, even with !ack disabled."""
    mallory = IrcClient(irc_server.port, "mallory")
    join(mallory)
    mallory.say(CHANNEL, line)
    mallory.say(CHANNEL, "!log still here after that")
    mallory.wait_for(lambda reply: "Logged the message at" in reply)
    assert entries(store)[-1].message == "still here after that"


def test_the_supervisor_starts_a_dead_bot_again(irc_server: IrcServer, store: Store) -> None:
    settings = load_settings(env=dict(os.environ))
    config = BotConfig(
        server="127.0.0.1",
        port=irc_server.port,
        nick="opsweek-bot",
        channels=(CHANNEL,),
        min_reconnect=0.5,
        max_reconnect=2,
    )
    started: list[SalBot] = []

    def make() -> SalBot:
        bot = SalBot(config, App(settings, store=store))
        started.append(bot)
        if len(started) == 1:  # the first one's thread dies a few seconds after it starts
            bot.reactor.process_once = _dying(bot.reactor.process_once)  # type: ignore[method-assign]
        return bot

    stop = threading.Event()
    thread = threading.Thread(
        target=ircbot.run_supervised, args=(make, stop, 0.2, 1.0), daemon=True
    )
    thread.start()
    try:
        alice = IrcClient(irc_server.port, "alice")
        join(alice)
        deadline = time.monotonic() + 20
        while len(started) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(started) >= 2, "the bot was not started again"
        alice.wait_for(
            lambda line: line.startswith(":opsweek-bot!") and " JOIN " in line, timeout=15
        )
        alice.say(CHANNEL, "!log back after a crash")
        alice.wait_for(lambda reply: "Logged the message at" in reply, timeout=15)
        assert entries(store)[-1].message == "back after a crash"
    finally:
        stop.set()
        thread.join(timeout=10)


def _dying(process_once):  # type: ignore[no-untyped-def]
    """The reactor's loop step, raising once it has run a few times (the bot crashing)."""
    calls = {"n": 0}

    def step(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 25:
            raise RuntimeError("the bot thread died")
        return process_once(*args, **kwargs)

    return step


def test_the_channels_lines_are_kept_and_today_shows_what_matters(
    irc_server: IrcServer, bot: SalBot, store: Store, now: datetime
) -> None:
    from opsweek.alerts.service import Inbox
    from opsweek.duties.today import ChannelWatch, channel_mentions
    from opsweek.rotation.views import OnDuty

    bob = IrcClient(irc_server.port, "bob")
    join(bob)
    bob.say(CHANNEL, "edit_hourly failed again? ann_irc")
    bob.say(CHANNEL, "lunch?")
    bob.say(CHANNEL, "!opsweek who")
    bob.wait_for(lambda line: "ops duty" in line)
    deadline = time.monotonic() + 5
    while True:
        with store.session() as session:
            kept = [(c.nick, c.text) for c in session.scalars(select(ChannelLine))]
        if len(kept) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert ("bob", "lunch?") in kept and ("bob", "!opsweek who") in kept
    with store.session() as session:
        watch = ChannelWatch(timedelta(hours=24), ("refine",), {}, ("opsweek-bot",))
        said = channel_mentions(Inbox(session), OnDuty(None, None), watch, now)
    assert [m.text for m in said] == ["edit_hourly failed again? ann_irc"]  # its alert's job
    bob.close()


def test_opsweek_entries_are_said_as_relayed_log_lines(
    irc_server: IrcServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sal.publish = irc`: each SAL entry opsweek makes is said once, as a `!log user@host`
    line the team's SAL bot credits to the user; entries from IRC are never said back, and
    an entry made while the bot is away is said once it is back."""
    monkeypatch.setattr(ircbot, "OUTBOX_SECONDS", 0.2)
    settings = load_settings(
        env={"OPSWEEK_SAL_PUBLISH": "irc", "OPSWEEK_WEB_BASE_URL": "https://ops.example.org"}
    )
    ops = App(settings, store=open_store(f"sqlite:///{tmp_path / 'relay.db'}"))
    long = "reran refine for event.navigationtiming " + "x" * 600
    with ops.session() as session:
        sal = SalLog(session)
        sal.append("ann", "acknowledged alert 12", source="opsweek")
        sal.append("bob", long, source="cli", project="analytics-dumps")
        sal.append("carol", "from the channel", source="irc")
    config = BotConfig.from_settings(settings.irc, settings.sal, settings.web.base_url)
    config = dataclasses.replace(config, server="127.0.0.1", port=irc_server.port, tls=False)
    listener = IrcClient(irc_server.port, "logmsg_reader")
    listener.join(CHANNEL)
    bot = SalBot(config, ops)
    stop = threading.Event()
    thread = threading.Thread(target=bot.run, args=(stop,), daemon=True)
    thread.start()
    try:
        said = [
            listener.wait_for(lambda line: "PRIVMSG" in line and "!log" in line, timeout=15)
            for _ in range(2)
        ]
        texts = [line.split(f"PRIVMSG {CHANNEL} :", 1)[1] for line in said]
        assert texts[0] == "!log ann@opsweek acknowledged alert 12"
        assert texts[1].startswith("!log analytics-dumps bob@opsweek reran refine")
        assert texts[1].endswith("… https://ops.example.org/sal/2") and len(texts[1]) <= 400
        assert not any("!log" in line for line in listener.lines(1.5))  # once, and not carol's
        with ops.session() as session:
            irc = summary(session)["irc"]
        assert (irc["published"], irc["waiting"], irc["error"]) == (2, 0, None)
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()
        ops.close()


def test_one_bot_in_the_channel_whatever_the_servers(
    irc_server: IrcServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two servers on one store each want a bot in the channel: one only is there, and when
    its server goes away the other's bot comes."""
    from opsweek.db.leadership import Leadership
    from opsweek.db.session import make_engine

    monkeypatch.setattr(ircbot, "LEADER_SECONDS", 1.0)
    url = f"sqlite:///{tmp_path / 'two.db'}"
    store = open_store(url)
    settings = load_settings(env={})
    engine = make_engine(url)
    runs = []
    for nick in ("opsweek-a", "opsweek-b"):
        config = BotConfig("127.0.0.1", irc_server.port, nick, (CHANNEL,), min_reconnect=0.5)
        leadership = Leadership(engine, "irc-bot")
        stop = threading.Event()
        thread = threading.Thread(
            target=ircbot.run_supervised,
            args=(lambda config=config: SalBot(config, App(settings, store=store)), stop),
            kwargs={"min_backoff": 0.5, "may_run": leadership.held},
            daemon=True,
        )
        thread.start()
        runs.append((nick, stop, thread, leadership))
    watcher = IrcClient(irc_server.port, "watcher")
    try:
        time.sleep(3)
        present = [n for n in watcher.join(CHANNEL) if n.startswith("opsweek-")]
        assert len(present) == 1, present
        holder = next(run for run in runs if run[0] == present[0])
        holder[1].set()  # its server stops: its bot leaves, its lock goes
        holder[2].join(timeout=10)
        holder[3].release()
        other = next(run for run in runs if run is not holder)[0]
        watcher.wait_for(lambda line: line.startswith(f":{other}!") and " JOIN " in line, 20)
    finally:
        for _, stop, thread, leadership in runs:
            stop.set()
            thread.join(timeout=10)
            leadership.release()
        watcher.close()
        engine.dispose()
        store.close()


def test_a_line_that_is_not_utf8_is_kept_and_the_bot_stays(
    irc_server: IrcServer, bot: SalBot, store: Store
) -> None:
    """Issue 29: one latin-1 line in the channel disconnected the bot, and repeats kept it
    away ever longer while lines said meanwhile were lost."""
    mallory = IrcClient(irc_server.port, "mallory")
    join(mallory)
    for _ in range(3):
        mallory.sock.sendall(f"PRIVMSG {CHANNEL} :caf\xe9 cr\xe8me \xff\r\n".encode("latin-1"))
    mallory.say(CHANNEL, "!log still here")
    began = time.monotonic()
    mallory.wait_for(lambda reply: "Logged the message at" in reply, timeout=5)
    assert time.monotonic() - began < 3  # answered at once, not after a reconnect
    assert entries(store)[-1].message == "still here"
    with store.session() as session:
        kept = [line.text for line in session.scalars(select(ChannelLine))]
    assert "caf\ufffd cr\ufffdme \ufffd" in kept  # kept, the bad bytes shown as such
