"""The outside systems the duties use, built from the settings (None when not configured)."""

from __future__ import annotations

from opsweek.adapters.chat import Chat
from opsweek.adapters.tracker import Tracker
from opsweek.config import Settings
from opsweek.errors import ConfigError


def tracker_from(settings: Settings) -> Tracker | None:
    if settings.get("tracker.kind") != "phabricator":
        return None
    from opsweek.adapters.phabricator import PhabricatorTracker

    if not settings.get("tracker.url"):
        raise ConfigError("tracker.kind is phabricator but tracker.url is not set")
    return PhabricatorTracker(
        settings.get("tracker.url"),
        settings.get("tracker.token"),
        settings.get("tracker.column_phid"),
        timeout=settings.get("tracker.timeout"),
    )


def chat_from(settings: Settings) -> Chat | None:
    if settings.get("chat.kind") != "slack":
        return None
    from opsweek.adapters.slack import SlackChat

    return SlackChat(
        settings.get("chat.base_url"), settings.get("chat.token"), settings.get("chat.timeout")
    )
