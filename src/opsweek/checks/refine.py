"""Whether a failed Refine partition has been refined since: Refine leaves a flag in each output
partition directory, ``_REFINED`` when it is done and ``_REFINE_FAILED`` when it failed
(see ../shared/runbook/formats.md). A partition is refined when its ``_REFINED`` flag is there
and newer than any ``_REFINE_FAILED``; it still fails when only the failure flag is there, or
the failure flag is the newer; it is pending otherwise (no flag yet). Whether the raw input is
there tells a rerun that cannot work (nothing to refine) from one not yet run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

REFINED, FAILED, PENDING, UNKNOWN = "refined", "failed", "pending", "unknown"
REFINED_FLAG, FAILED_FLAG = "_REFINED", "_REFINE_FAILED"


class FlagFiles(Protocol):
    def modified(self, path: str) -> datetime | None: ...

    def exists(self, path: str) -> bool: ...

    def hdfs_path(self, location: str) -> str | None: ...


@dataclass(frozen=True)
class PartitionState:
    alert_id: int
    table: str
    hour: str
    partition_path: str
    state: str  # refined, failed, pending; unknown when the alert names no partition
    refined_at: datetime | None = None
    failed_at: datetime | None = None
    raw_present: bool | None = None  # None: the alert names no raw input path

    def note(self, tz: ZoneInfo) -> str:
        """What the check saw, in a line (the resolution note of a refined partition)."""
        if self.state == REFINED and self.refined_at:
            when = self.refined_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
            return f"refined at {when}, flag {REFINED_FLAG} in {self.partition_path}"
        if self.state == FAILED and self.failed_at:
            when = self.failed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
            return f"still failing: {FAILED_FLAG} written at {when}"
        if self.state == UNKNOWN:
            return "the alert names no output partition to check"
        missing = " (the raw input is missing: a rerun has nothing to refine)"
        return "no flag yet: not refined since" + (missing if self.raw_present is False else "")

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "table": self.table,
            "hour": self.hour,
            "partition_path": self.partition_path,
            "state": self.state,
            "refined_at": self.refined_at.isoformat() if self.refined_at else None,
            "failed_at": self.failed_at.isoformat() if self.failed_at else None,
            "raw_present": self.raw_present,
            "note": self.note(tz),
        }


def partition_state(alert_id: int, details: dict[str, Any], files: FlagFiles) -> PartitionState:
    """The state of the partition a Refine failure alert is about (its ``partition_path``)."""
    path = str(details.get("partition_path") or "").rstrip("/")
    table, hour = str(details.get("table") or ""), str(details.get("hour") or "")
    if not path.startswith("/"):
        return PartitionState(alert_id, table, hour, path, UNKNOWN)
    refined_at = files.modified(f"{path}/{REFINED_FLAG}")
    failed_at = files.modified(f"{path}/{FAILED_FLAG}")
    raw = _hdfs_path(str(details.get("source_path") or ""), files)
    raw_present = files.exists(raw) if raw else None
    if refined_at and (failed_at is None or refined_at >= failed_at):
        state = REFINED
    elif failed_at:
        state = FAILED
    else:
        state = PENDING
    return PartitionState(alert_id, table, hour, path, state, refined_at, failed_at, raw_present)


def _hdfs_path(location: str, files: FlagFiles) -> str | None:
    """The HDFS path of a location: under the files' root, or the path of any hdfs:// URL
    (the same path whichever name node the URL names)."""
    if not location:
        return None
    found = files.hdfs_path(location)
    if found:
        return found
    parts = urlsplit(location)
    if parts.scheme in ("hdfs", "webhdfs", "viewfs") and parts.path.startswith("/"):
        return parts.path
    return location if location.startswith("/") else None
