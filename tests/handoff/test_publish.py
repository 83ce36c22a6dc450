"""Publishing the handoff, reminders and decisions to a local Slack stub and a local SMTP
server: each is sent once, and a retry sends only what failed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from opsweek.adapters.mailer import SmtpMailer
from opsweek.adapters.slack import SlackChat
from opsweek.adapters.tracker import Tracker
from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.config import Settings, load_settings
from opsweek.db.models import Decision
from opsweek.db.session import Store
from opsweek.demo import seed
from opsweek.errors import Unavailable
from opsweek.handoff.decisions import Decisions
from opsweek.handoff.service import HandoffService
from tests.services.common import free_port
from tests.services.http_stub import Reply, Request, StubServer, stub_server
from tests.services.smtp import Inbox, smtp_server

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
BEFORE_HANDOFF = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)  # 2 h before Thursday 09:00


class Slack:
    """Slack's chat.postMessage, keeping what was posted, and its file uploads (the URL to
    upload to, the upload, its completion in a channel's thread)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, str]] = []
        self.uploads: list[dict[str, str]] = []  # getUploadURLExternal, with the upload
        self.shared: list[dict[str, str]] = []  # completeUploadExternal
        self.url = ""

    def __call__(self, request: Request) -> Reply:
        self.posts.append(request.form)
        return Reply({"ok": True, "ts": f"1764400000.{len(self.posts):06d}"})

    def routes(self) -> dict[str, Any]:
        def get_url(request: Request) -> Reply:
            file_id = f"F{len(self.uploads) + 1}"
            self.uploads.append(dict(request.form))
            return Reply(
                {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
            )

        def upload(request: Request) -> Reply:
            self.uploads[int(request.method[1:]) - 1]["received"] = str(len(request.body))
            return Reply("OK")

        def complete(request: Request) -> Reply:
            self.shared.append(dict(request.form))
            return Reply({"ok": True, "files": [{"id": f"F{len(self.shared)}"}]})

        return {
            "chat.postMessage": self,
            "files.getUploadURLExternal": get_url,
            "files.completeUploadExternal": complete,
            "F1": upload,
            "F2": upload,
        }


def settings_for(slack: StubServer | None, smtp_port: int | None) -> Settings:
    values: dict[str, Any] = {"mail.alerts_list": "data-engineering-alerts@example.org"}
    if slack is not None:
        values |= {
            "chat.kind": "slack",
            "chat.base_url": slack.url + "/api/",
            "chat.team_channel": "C0TEAM",
            "chat.collab_channel": "C0COLLAB",
        }
    if smtp_port is not None:
        values |= {"mail.smtp_host": "127.0.0.1", "mail.smtp_port": smtp_port}
    return load_settings(env={}, overrides=values)


def handoff(
    settings: Settings, session: Session, now: datetime, tracker: Tracker | None = None
) -> HandoffService:
    """The handoff service as opsweek builds it, with a Slack client that does not wait out
    rate limits."""
    chat = None
    if settings.chat.kind == "slack":
        chat = SlackChat(settings.chat.base_url, "xoxb-test", rate_retries=0)
    return App(settings, chat=chat, tracker=tracker).handoff(session, now=now)


@pytest.fixture
def seeded(store: Store) -> Store:
    ops = App(load_settings(env={}))
    with store.writing() as session:
        seed(AlertChanges(store), session, ops.rotation_config, NOW, duties=ops.duty_book)
    return store


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    with smtp_server() as server:
        yield server


def history(_: Request) -> Reply:
    return Reply({"ok": True, "messages": [], "response_metadata": {"next_cursor": ""}})


def test_handoff_is_posted_and_mailed_once_and_a_retry_sends_only_what_failed(
    seeded: Store, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    slack = Slack()
    with stub_server({**slack.routes(), "conversations.history": history}) as stub:
        slack.url = stub.url
        settings = settings_for(stub, port)
        with seeded.session() as session:
            service = handoff(settings, session, NOW)
            report = service.report(date(2026, 11, 20))
            # the summary is posted, then the thread reply fails
            original = service.chat.post  # type: ignore[union-attr]
            calls = {"n": 0}

            def flaky(channel: str, text: str, thread: str | None = None) -> str:
                calls["n"] += 1
                if thread is not None and calls["n"] == 2:
                    raise Unavailable("Slack chat.postMessage: fatal_error")
                return original(channel, text, thread)

            service.chat.post = flaky  # type: ignore[union-attr,method-assign]
            first = service.publish(report, {"slack", "email"})
            second = service.publish(report, {"slack", "email"})
            third = service.publish(report, {"slack", "email"})
    assert first[0] == {
        "target": "slack",
        "error": "Slack chat.postMessage: fatal_error",
        "sent": False,
    }
    assert first[1]["sent"] is True
    assert second == [
        {"target": "slack", "ref": "1764400000.000001", "sent": True},
        {"target": "email", "ref": first[1]["ref"], "sent": False},
    ]
    assert [r["sent"] for r in third] == [False, False]
    # two posts in all: the summary once, the thread reply once, in the summary's thread
    assert len(slack.posts) == 2
    assert slack.posts[0]["channel"] == "C0TEAM"
    assert "Ops week handoff, week of 2026-11-19" in slack.posts[0]["text"]
    assert slack.posts[1]["thread_ts"] == "1764400000.000001"
    assert "## Alerts of the week, by kind" in slack.posts[1]["text"]
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert inbox.recipients[0] == ["data-engineering-alerts@example.org"]
    assert mail["Subject"].startswith("[ops week] Ops week handoff, week of 2026-11-19")
    assert mail["Message-ID"] == "<opsweek-handoff-2026-11-19@localhost>"
    assert mail.get_body(("html",)) is not None
    # the charts as pictures: shared once in the report's thread, and inline in the mail
    assert [u["filename"] for u in slack.uploads] == [
        "ops-week-2026-11-19-week.png",
        "ops-week-2026-11-19-noise.png",
    ]
    assert all(int(u["received"]) > 1000 for u in slack.uploads)
    assert [s["thread_ts"] for s in slack.shared] == ["1764400000.000001"] * 2
    assert all(s["channel_id"] == "C0TEAM" for s in slack.shared)
    html = mail.get_body(("html",)).get_content()
    pngs = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    assert len(pngs) == 2 and all(p.get_content().startswith(b"\x89PNG") for p in pngs)
    for part in pngs:
        assert f'src="cid:{part["Content-ID"].strip("<>")}"' in html
    assert "<svg" not in html.split("The week, day by day")[1].split("</figure>")[0]


def test_handoff_reports_what_was_unavailable_and_still_builds(seeded: Store) -> None:
    with stub_server(
        {"conversations.history": lambda r: Reply({"ok": False, "error": "not_in_channel"})}
    ) as stub:
        settings = settings_for(stub, None)
        with seeded.session() as session:
            service = handoff(settings, session, NOW)
            report = service.report()
            results = service.publish(report, {"email"})
    assert report.inputs.unavailable == ["chat: Slack conversations.history: not_in_channel"]
    assert report.inputs.questions is None
    assert results == [{"target": "email", "error": "mail.smtp_host is not set", "sent": False}]
    assert report.figures.alerts > 0


def test_reminder_goes_once_to_both_people_before_the_handoff(
    seeded: Store, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    slack = Slack()
    said: list[str] = []
    with stub_server({"chat.postMessage": slack}) as stub:
        settings = settings_for(stub, port)
        with seeded.session() as session:
            early = handoff(settings, session, NOW)
            assert early.remind({"slack", "email"}) == []  # not within 4 hours yet
            service = handoff(settings, session, BEFORE_HANDOFF)
            reminder = service.reminder_due()
            assert reminder is not None
            first = service.remind({"slack", "email"}, say_on_irc=said.append)
            again = service.remind({"slack", "email"}, say_on_irc=said.append)
    current, upcoming = reminder.current, reminder.next
    assert current is not None and upcoming is not None
    assert [r["sent"] for r in first] == [True, True, True]  # email, irc, slack
    assert [r["sent"] for r in again] == [False, False, False]
    assert len(slack.posts) == 1 and len(inbox.messages) == 1 and len(said) == 1
    assert f"<@{current.slack_id}>" in slack.posts[0]["text"]
    assert f"<@{upcoming.slack_id}>" in slack.posts[0]["text"]
    assert sorted(inbox.recipients[0]) == sorted([current.email, upcoming.email])
    assert f"{current.username} hands over to {upcoming.username}" in said[0]


def test_a_decision_is_kept_when_mail_fails_and_mailed_once_later(
    store: Store, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    down = SmtpMailer("127.0.0.1", free_port())
    up = SmtpMailer("127.0.0.1", port, sender="opsweek@example.org")
    to = "data-engineering-alerts@example.org"
    with store.session() as session:
        decisions = Decisions(session, "ana", NOW)
        decision = decisions.record("Not deploying this week: \x02hive\x02 upgrade pending")
        with pytest.raises(Unavailable, match="mail to data-engineering-alerts"):
            decisions.mail(decision, down, to)
        assert decision.mail_error and decision.mailed_at is None
        assert decisions.mail(decision, up, to) is True
        assert decisions.mail(decision, up, to) is False
    with store.session() as session:
        kept = session.scalar(select(Decision))
        assert kept is not None
        assert kept.text == "Not deploying this week: hive upgrade pending"
        assert kept.mailed_at is not None and kept.mail_error is None
    assert len(inbox.messages) == 1
    assert (
        inbox.messages[0]["Subject"]
        == "[ops week] Decision: Not deploying this week: hive upgrade pending"
    )
    assert "Decided by ana" in inbox.messages[0].get_content()


def test_an_unavailable_tracker_is_named_and_the_report_still_builds(seeded: Store) -> None:
    from opsweek.adapters.phabricator import PhabricatorTracker

    with stub_server({"maniphest.search": lambda r: Reply({"error": "down"}, 503)}) as stub:
        settings = settings_for(None, None)
        tracker = PhabricatorTracker(stub.url, "api-x", "PHID-PCOL-x", timeout=2)
        with seeded.session() as session:
            report = handoff(settings, session, NOW, tracker).report()
    assert report.inputs.tasks is None
    assert report.inputs.unavailable == ["tracker: Phabricator maniphest.search: HTTP 503"]
    assert report.figures.alerts > 0
    from zoneinfo import ZoneInfo

    from opsweek.handoff.render import to_markdown

    text = to_markdown(report, ZoneInfo("UTC"))
    assert "## Tracker tasks\nNot available (see the end of the report)." in text
    assert "## Not available when this report was built" in text
    assert "- tracker: Phabricator maniphest.search: HTTP 503" in text
