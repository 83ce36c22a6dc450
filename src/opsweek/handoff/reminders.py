"""Handoff reminders sent on their own: `opsweek serve` checks every minute, the IRC bot
says them in its channels. Each goes once per week and target (see HandoffService.remind)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from opsweek.handoff.service import HandoffService

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60  # how often `opsweek serve` and the IRC bot check for a due reminder


def send_due_reminders(
    handoff: HandoffService,
    targets: set[str],
    say_on_irc: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """The reminder, when one is due and not sent yet, on each of ``targets``; a target that
    fails is logged and tried again at the next check."""
    if not targets and say_on_irc is None:
        return []
    results = handoff.remind(targets, say_on_irc)
    for result in results:
        if "error" in result:
            log.warning("handoff reminder on %s failed: %s", result["target"], result["error"])
    return results
