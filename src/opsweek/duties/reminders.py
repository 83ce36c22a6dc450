"""Handoff reminders sent on their own: `opsweek serve` checks every minute, the IRC bot
says them in its channels. Each goes once per week and channel (see HandoffService.remind)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from opsweek.config import Settings
from opsweek.db.session import Store
from opsweek.duties.handoff_service import HandoffService, Outside

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60


def configured_targets(settings: Settings) -> set[str]:
    targets = set()
    if settings.get("chat.kind") and settings.get("chat.team_channel"):
        targets.add("slack")
    if settings.get("mail.smtp_host"):
        targets.add("email")
    return targets


def send_due_reminders(
    store: Store,
    settings: Settings,
    outside: Outside,
    targets: set[str],
    say_on_irc: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    if not targets and say_on_irc is None:
        return []
    with store.session() as session:
        results = HandoffService(session, settings, outside).remind(targets, say_on_irc)
    for result in results:
        if "error" in result:
            log.warning("handoff reminder on %s failed: %s", result["target"], result["error"])
    return results


class ReminderLoop(threading.Thread):
    """Checks every minute whether a handoff reminder is due, until stopped."""

    def __init__(self, store: Store, settings: Settings, outside: Outside) -> None:
        super().__init__(name="handoff-reminders", daemon=True)
        self.store = store
        self.settings = settings
        self.outside = outside
        self.stopping = threading.Event()

    def run(self) -> None:
        targets = configured_targets(self.settings)
        while not self.stopping.is_set():
            try:
                send_due_reminders(self.store, self.settings, self.outside, targets)
            except Exception:  # a failed check must not stop the next ones
                log.exception("handoff reminder check failed")
            self.stopping.wait(INTERVAL_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
