"""Outside text (alert titles, SAL messages, decisions, questions) goes into every message
opsweek posts escaped for that channel: no Slack mention, no second IRC line, no extra mail
header."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import ALERTMANAGER
from opsweek.alerts.model import RawInput
from opsweek.app import App
from opsweek.db.session import Store
from opsweek.handoff.decisions import Decisions
from opsweek.quoting import header_text, irc_text, slack_mention, slack_text
from opsweek.sal.log import SalLog
from tests.handoff.test_publish import NOW, Slack, handoff, history, seeded, settings_for
from tests.services.http_stub import Reply, stub_server
from tests.services.smtp import smtp_server

__all__ = ["seeded"]
DURING = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # inside the week handed off
PING = "<!channel> wake up <!here> <@U0BOSS> <https://evil.example|click> & more"


def hostile_week(store: Store) -> None:
    payload = (
        '{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing",'
        '"labels":{"alertname":"Evil","instance":"h:1"},"annotations":{"summary":'
        f'"{PING}"}},"startsAt":"2026-11-24T10:00:00Z","fingerprint":"f1"}}]}}'
    )
    with store.writing() as session:
        AlertChanges(store).ingest(
            [RawInput(payload.encode(), ALERTMANAGER, DURING)], DURING, session
        )
        SalLog(session).append("mallory", f"did things {PING}", source="irc", at=DURING)
        Decisions(session, "mallory", DURING).record(f"decided {PING}\nSubject: injected")


def test_the_slack_handoff_escapes_every_outside_text(seeded: Store) -> None:
    hostile_week(seeded)
    slack = Slack()
    questions = {
        "ok": True,
        "messages": [{"type": "message", "user": "U0ASKER", "text": PING, "ts": "1764320000.0"}],
        "response_metadata": {"next_cursor": ""},
    }
    with stub_server(
        {"chat.postMessage": slack, "conversations.history": lambda r: Reply(questions)}
    ) as stub:
        settings = settings_for(stub, None)
        with seeded.session() as session:
            service = handoff(settings, session, NOW)
            service.publish(service.report(date(2026, 11, 20)), {"slack"})
    posted = "\n".join(post["text"] for post in slack.posts)
    assert "wake up" in posted and "did things" in posted and "decided" in posted
    # the only mention left is the asker's, made by opsweek; nothing else Slack would act on
    assert re.findall(r"<[!@#][^>]*>", posted) == ["<@U0ASKER>"]
    assert "<https://evil.example|click>" not in posted
    assert "&lt;!channel&gt;" in posted and "&amp; more" in posted


def test_slack_irc_and_header_quoting() -> None:
    assert slack_text("<!here> & <@U1>") == "&lt;!here&gt; &amp; &lt;@U1&gt;"
    assert slack_mention("U0123ABC") == "<@U0123ABC>"
    assert slack_mention("U01><!channel") == "U01&gt;&lt;!channel"
    assert irc_text("one\r\nPRIVMSG #x :two\x01\x02") == "one PRIVMSG #x :two"
    assert header_text("a\r\nBcc: victim@example.org") == "a Bcc: victim@example.org"


def test_a_decision_mail_has_one_subject_line(seeded: Store) -> None:
    with smtp_server() as (port, inbox), stub_server({"conversations.history": history}):
        settings = settings_for(None, port)
        with seeded.session() as session:
            decisions = Decisions(session, "mallory", NOW)
            decision = decisions.record("skip the train\r\nBcc: victim@example.org")
            decisions.mail(decision, App(settings).require_mailer(), "list@example.org")
    (mail,) = inbox.messages
    assert "Bcc" not in mail and inbox.recipients == [["list@example.org"]]
    assert "\n" not in mail["Subject"]
