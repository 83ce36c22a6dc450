"""Is there a new MediaWiki history snapshot ready? The newest snapshot=YYYY-MM with its flags,
whether the expected one is late, and checker error files; a complete new snapshot hands the
person on duty the monthly redeploy, step by step."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from opsweek.adapters.fs import Files
from opsweek.alerts.sources.opsweek_check import finding

DATASETS = ("history", "user_history", "page_history")
FLAGS = ("_SUCCESS", "_CHECKED", "_PARTITIONED")
REDUCED = "history_reduced"
SNAPSHOT = re.compile(r"^snapshot=(\d{4})-(\d{2})\Z")


def expected_snapshot(today: date) -> str:
    """In month M the snapshot of month M-1 is expected."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


@dataclass
class SnapshotState:
    snapshot: str
    flags: dict[str, list[str]] = field(default_factory=dict)  # dataset -> flags present
    errors: list[str] = field(default_factory=list)  # checker error files, with first lines

    @property
    def complete(self) -> bool:
        return all(set(FLAGS) <= set(self.flags.get(d, [])) for d in DATASETS) and (
            "_SUCCESS" in self.flags.get(REDUCED, [])
        )

    @property
    def missing(self) -> list[str]:
        wanted = [(d, f) for d in DATASETS for f in FLAGS] + [(REDUCED, "_SUCCESS")]
        return [f"{d}/{f}" for d, f in wanted if f not in self.flags.get(d, [])]


@dataclass
class MwHistory:
    today: date
    expected: str
    late_day: int
    newest: SnapshotState | None = None
    states: dict[str, SnapshotState] = field(default_factory=dict)
    unexpected_names: list[str] = field(default_factory=list)

    @property
    def expected_state(self) -> SnapshotState | None:
        return self.states.get(self.expected)

    @property
    def ready(self) -> bool:
        state = self.expected_state
        return state is not None and state.complete

    @property
    def late(self) -> bool:
        return not self.ready and self.today.day > self.late_day

    def summary(self) -> str:
        """One line, as Today shows a check run from its button."""
        state = self.expected_state
        said = f"snapshot {self.expected}: " + (
            "ready: the redeploy duty is open"
            if self.ready
            else ("LATE" if self.late else "not ready yet")
        )
        if state and not self.ready:
            said += f", missing {', '.join(state.missing[:4])}"
        said += f"; newest complete: {self.newest.snapshot if self.newest else 'none'}"
        return said + "".join(f"; checker error: {e}" for e in (state.errors if state else []))

    def as_json(self) -> dict[str, Any]:
        state = self.expected_state
        return {
            "today": self.today.isoformat(),
            "expected": self.expected,
            "ready": self.ready,
            "late": self.late,
            "newest": self.newest.snapshot if self.newest else None,
            "missing_flags": state.missing if state else None,
            "checker_errors": state.errors if state else [],
            "unexpected_names": self.unexpected_names,
        }

    def findings(self) -> list[bytes]:
        found = []
        state = self.expected_state
        snapshot = self.expected
        if self.ready:
            found.append(
                finding(
                    "mw-history",
                    "mediawiki_history_available",
                    f"MediaWiki history snapshot {snapshot} available: redeploy AQS services",
                    f"snapshot {snapshot}",
                    {
                        "snapshot": snapshot,
                        "duty": "mw-history-deploy",
                        "services": ["edit-analytics", "editor-analytics"],
                    },
                    severity="info",
                    subject=[snapshot],  # the same alert as the "now available" e-mail
                )
            )
        found.append(
            finding(
                "mw-history",
                "mediawiki_history_late",
                f"MediaWiki history snapshot {snapshot} is late: missing "
                + ", ".join((state.missing if state else ["the snapshot"])[:4]),
                f"late {snapshot}",
                {"snapshot": snapshot, "missing": state.missing if state else ["snapshot"]},
                severity="error",
                resolved=not self.late,
            )
        )
        errors = state.errors if state else []
        found.append(
            finding(
                "mw-history",
                "mediawiki_history_checker_error",
                f"MediaWiki history checker reported errors for {snapshot}",
                f"checker {snapshot}",
                {"snapshot": snapshot, "errors": errors},
                severity="error",
                resolved=not errors,
                subject=[snapshot],  # the same alert as the denormalize checker's e-mail
            )
        )
        return found


def scan_snapshots(files: Files, base: str, today: date, late_day: int) -> MwHistory:
    result = MwHistory(today, expected_snapshot(today), late_day)
    for dataset in (*DATASETS, REDUCED):
        directory = posixpath.join(base, dataset)
        if not files.exists(directory):
            continue
        for real in files.fs.ls(files.real(directory), detail=False):
            name = posixpath.basename(real.rstrip("/"))
            match = SNAPSHOT.match(name)
            if not match or not 1 <= int(match.group(2)) <= 12:
                result.unexpected_names.append(posixpath.join(directory, name))
                continue
            snapshot = f"{match.group(1)}-{match.group(2)}"
            state = result.states.setdefault(snapshot, SnapshotState(snapshot))
            present = []
            for child in files.fs.ls(real, detail=False):
                child_name = posixpath.basename(child.rstrip("/"))
                if child_name in FLAGS:
                    present.append(child_name)
                elif "error" in child_name.lower() and files.fs.isfile(child):
                    text = files.fs.cat_file(child)[:2000].decode("utf-8", "replace")
                    first = next((ln for ln in text.splitlines() if ln.strip()), "")
                    state.errors.append(f"{dataset}/{name}/{child_name}: {first}")
            state.flags[dataset] = sorted(present)
    complete = sorted(s for s, st in result.states.items() if st.complete)
    if result.states:
        newest = complete[-1] if complete else max(result.states)
        result.newest = result.states[newest]
    return result
