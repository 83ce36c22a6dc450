"""Druid's overlord API: the status of an indexing task (``GET
/druid/indexer/v1/task/{id}/status``, as Druid documents it)."""

from __future__ import annotations

from urllib.parse import quote

from opsweek.errors import Unavailable


def task_status(overlord_url: str, task_id: str, timeout: float = 10.0) -> str:
    """SUCCESS, FAILED, RUNNING, ...: the task's status as the overlord reports it."""
    import httpx

    url = f"{overlord_url.rstrip('/')}/druid/indexer/v1/task/{quote(task_id, safe='')}/status"
    try:
        response = httpx.get(url, timeout=timeout)
        response.raise_for_status()
        status = response.json().get("status") or {}
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        raise Unavailable(f"{url}: {exc}") from None
    found = status.get("status") or status.get("statusCode") if isinstance(status, dict) else None
    if not isinstance(found, str):
        raise Unavailable(f"{url}: no status in the answer")
    return found
