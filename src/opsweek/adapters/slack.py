"""Slack through its Web API (slack_sdk): the collaboration channel's questions and posting
the handoff thread and reminders. Rate limits are waited out as Slack's Retry-After says."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from opsweek.adapters.chat import Question
from opsweek.errors import Unavailable

MAX_PAGES = 20


class SlackChat:
    name = "slack"

    def __init__(self, base_url: str, token: str, timeout: int = 10, rate_retries: int = 2) -> None:
        base = base_url if base_url.endswith("/") else base_url + "/"
        self.client = WebClient(
            token=token,
            base_url=base,
            timeout=timeout,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=rate_retries)],
        )

    def _call(self, method: str, **params: Any) -> dict[str, Any]:
        try:
            response = self.client.api_call(method, params=params)
        except SlackApiError as exc:
            status = exc.response.status_code
            if status == 429:
                wait = exc.response.headers.get("Retry-After", "?")
                raise Unavailable(f"Slack {method}: rate limited, retry after {wait} s") from None
            reason = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            raise Unavailable(f"Slack {method}: {reason or f'HTTP {status}'}") from None
        except (SlackClientError, OSError) as exc:
            raise Unavailable(f"Slack {method}: {exc or type(exc).__name__}") from None
        data = response.data
        if not isinstance(data, dict):
            raise Unavailable(f"Slack {method}: the answer is not JSON")
        return data

    def whoami(self, channel: str = "") -> str:
        """Who the token is, and (``channel``) that it can read the channel."""
        me = self._call("auth.test")
        said = f"{me.get('user')} on {me.get('team')}"
        if channel:
            info = self._call("conversations.info", channel=channel).get("channel") or {}
            said += f"; #{info.get('name') or channel} readable"
        return said

    def questions(self, channel: str, since: datetime) -> list[Question]:
        found = []
        cursor = ""
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"channel": channel, "oldest": f"{since.timestamp():.6f}"}
            if cursor:
                params["cursor"] = cursor
            page = self._call("conversations.history", limit=200, **params)
            for message in page.get("messages", []):
                if message.get("subtype") or message.get("bot_id") or "user" not in message:
                    continue
                if message.get("thread_ts") not in (None, message.get("ts")):
                    continue  # a reply shown in the channel
                found.append(
                    Question(
                        channel=channel,
                        ts=message["ts"],
                        user=message["user"],
                        text=message.get("text", ""),
                        asked_at=datetime.fromtimestamp(float(message["ts"]), UTC),
                        reply_users=tuple(message.get("reply_users", ())),
                    )
                )
            cursor = (page.get("response_metadata") or {}).get("next_cursor", "")
            if not cursor:
                break
        return sorted(found, key=lambda q: q.asked_at)

    def upload(self, channel: str, thread: str, filename: str, content: bytes, title: str) -> str:
        """files.getUploadURLExternal, the upload, files.completeUploadExternal (the bot needs
        the files:write scope)."""
        try:
            response = self.client.files_upload_v2(
                channel=channel, thread_ts=thread, content=content, filename=filename, title=title
            )
        except SlackApiError as exc:
            reason = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            raise Unavailable(f"Slack file upload: {reason or exc.response.status_code}") from None
        except (SlackClientError, OSError) as exc:
            raise Unavailable(f"Slack file upload: {exc or type(exc).__name__}") from None
        files = response.get("files") or [{}]
        return str(files[0].get("id", ""))

    def post(self, channel: str, text: str, thread: str | None = None) -> str:
        params: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False}
        if thread:
            params["thread_ts"] = thread
        return str(self._call("chat.postMessage", **params)["ts"])
