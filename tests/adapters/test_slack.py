"""The Slack chat adapter against a local HTTP server speaking the Slack Web API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opsweek.adapters.slack import SlackChat
from opsweek.errors import Unavailable
from opsweek.watch.answers import answer_status, is_overdue, unanswered
from tests.services.http_stub import Reply, Request, stub_server

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def ts(hours_ago: float) -> str:
    return f"{(NOW - timedelta(hours=hours_ago)).timestamp():.6f}"


def history(request: Request) -> Reply:
    if request.form.get("cursor") != "page2":
        return Reply(
            {
                "ok": True,
                "messages": [
                    # unanswered for 30 hours
                    {
                        "type": "message",
                        "user": "U0ASKER1",
                        "text": "Is wmf.webrequest late?",
                        "ts": ts(30),
                    },
                    # answered by the team in the thread
                    {
                        "type": "message",
                        "user": "U0ASKER2",
                        "text": "Can I query pageviews?",
                        "ts": ts(28),
                        "thread_ts": ts(28),
                        "reply_count": 2,
                        "reply_users": ["U0ASKER2", "U01GSATO"],
                    },
                    # only the asker followed up
                    {
                        "type": "message",
                        "user": "U0ASKER3",
                        "text": "Anyone?",
                        "ts": ts(27),
                        "thread_ts": ts(27),
                        "reply_count": 1,
                        "reply_users": ["U0ASKER3"],
                    },
                    # a join message and a bot message are not questions
                    {
                        "type": "message",
                        "subtype": "channel_join",
                        "user": "U0NEW",
                        "text": "<@U0NEW> has joined the channel",
                        "ts": ts(26),
                    },
                    {"type": "message", "bot_id": "B01", "text": "deploy finished", "ts": ts(25)},
                ],
                "has_more": True,
                "response_metadata": {"next_cursor": "page2"},
            }
        )
    return Reply(
        {
            "ok": True,
            "messages": [
                # asked two hours ago: shown now, with the time left to answer it
                {"type": "message", "user": "U0ASKER4", "text": "Spark UI down?", "ts": ts(2)},
            ],
            "has_more": False,
            "response_metadata": {"next_cursor": ""},
        }
    )


def test_questions_and_the_24_hour_rule() -> None:
    with stub_server({"conversations.history": history}) as stub:
        chat = SlackChat(stub.url + "/api/", "xoxb-test")
        questions = chat.questions("C0COLLAB", NOW - timedelta(days=7))
        calls = stub.called("conversations.history")
    assert calls[0].headers["Authorization"] == "Bearer xoxb-test"
    assert calls[0].form["channel"] == "C0COLLAB"
    assert len(calls) == 2
    assert [q.user for q in questions] == ["U0ASKER1", "U0ASKER2", "U0ASKER3", "U0ASKER4"]
    waiting = unanswered(questions, {"U01GSATO", "U01HPATEL"}, NOW, 24)
    # every unanswered question as it comes, the most urgent first; it used to show only
    # once 24 hours had passed, when the runbook's deadline was already missed
    assert [q.text for q in waiting] == ["Is wmf.webrequest late?", "Anyone?", "Spark UI down?"]
    assert [answer_status(q.answer_due_at, NOW) for q in waiting] == [
        "overdue by 6 h",
        "overdue by 3 h",
        "22 h left",
    ]
    assert [is_overdue(q.answer_due_at, NOW) for q in waiting] == [True, True, False]


def test_post_in_a_thread_and_wait_out_a_rate_limit() -> None:
    attempts: list[int] = []

    def post(request: Request) -> Reply:
        attempts.append(1)
        if len(attempts) == 1:
            return Reply({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": "1"})
        return Reply({"ok": True, "channel": request.form["channel"], "ts": "1764150000.000200"})

    with stub_server({"chat.postMessage": post}) as stub:
        chat = SlackChat(stub.url + "/api", "xoxb-test")
        ref = chat.post("C0TEAM", "handoff details", thread="1764150000.000100")
        sent = stub.called("chat.postMessage")
    assert ref == "1764150000.000200"
    assert len(sent) == 2  # one rate-limited attempt, then the real one
    assert sent[-1].form["thread_ts"] == "1764150000.000100"
    assert sent[-1].form["text"] == "handoff details"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply({"ok": False, "error": "channel_not_found"}), "channel_not_found"),
        (
            Reply({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": "120"}),
            "retry after 120",
        ),
        (Reply({"ok": False}, 503), "HTTP 503|503"),
    ],
)
def test_failures_become_one_line(reply: Reply, message: str) -> None:
    with stub_server({"chat.postMessage": lambda r: reply}) as stub:
        chat = SlackChat(stub.url + "/api/", "xoxb-test", rate_retries=0)
        with pytest.raises(Unavailable, match=message):
            chat.post("C0TEAM", "hello")
