"""Posting events to an EventGate intake (the canary check's `--post`)."""

from __future__ import annotations

from typing import Any

from opsweek.errors import BadInput


def post_events(url: str, events: list[dict[str, Any]], timeout: float = 30) -> tuple[int, Any]:
    """POST ``events`` as one JSON array; the HTTP status and the decoded answer ({} when
    empty)."""
    import httpx

    try:
        response = httpx.post(url, json=events, timeout=timeout)
        return response.status_code, (response.json() if response.content else {})
    except (httpx.HTTPError, ValueError) as exc:
        raise BadInput(f"posting to {url}: {exc}") from None
