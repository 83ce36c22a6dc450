"""Phabricator (and Phorge) through the Conduit API: the open tasks in the board's ops-week
column, with their assignee and status; and the handoff's changes to them (maniphest.edit),
each made only if the task has not changed since it was read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from opsweek.adapters.tracker import Task, TaskChange
from opsweek.errors import Unavailable

PAGE = 100
MAX_PAGES = 50


class PhabricatorTracker:
    name = "phabricator"

    def __init__(
        self,
        url: str,
        token: str,
        column_phid: str,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.column_phid = column_phid
        self.client = httpx.Client(timeout=timeout, transport=transport)

    def conduit(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """One Conduit call; any failure becomes one Unavailable line."""
        body = {
            "params": json.dumps({**params, "__conduit__": {"token": self.token}}),
            "output": "json",
        }
        where = f"Phabricator {method}"
        try:
            response = self.client.post(f"{self.url}/api/{method}", data=body)
        except httpx.TimeoutException:
            raise Unavailable(f"{where}: no answer within {self.client.timeout.read} s") from None
        except httpx.HTTPError as exc:
            raise Unavailable(f"{where}: {exc}") from None
        if response.status_code == 429:
            wait = response.headers.get("Retry-After", "?")
            raise Unavailable(f"{where}: rate limited, retry after {wait} s")
        if response.status_code >= 400:
            raise Unavailable(f"{where}: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise Unavailable(f"{where}: the answer is not JSON") from None
        if answer.get("error_code"):
            raise Unavailable(f"{where}: {answer['error_code']}: {answer.get('error_info')}")
        result = answer.get("result")
        if not isinstance(result, dict):
            raise Unavailable(f"{where}: the answer has no result")
        return result

    def _search(self, method: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        after = None
        for _ in range(MAX_PAGES):
            page = self.conduit(
                method, {**params, "limit": PAGE, **({"after": after} if after else {})}
            )
            yield from page.get("data", [])
            after = (page.get("cursor") or {}).get("after")
            if not after:
                return
        raise Unavailable(f"Phabricator {method}: more than {PAGE * MAX_PAGES} results")

    def ops_tasks(self) -> list[Task]:
        if not self.column_phid:
            raise Unavailable("tracker.column_phid is not set")
        rows = [
            row
            for row in self._search(
                "maniphest.search", {"constraints": {"columnPHIDs": [self.column_phid]}}
            )
            if not row["fields"].get("dateClosed")
        ]
        owners = {row["fields"]["ownerPHID"] for row in rows if row["fields"].get("ownerPHID")}
        names = self._usernames(sorted(owners))
        tasks = []
        for row in rows:
            fields = row["fields"]
            status = fields.get("status") or {}
            tasks.append(
                Task(
                    ref=f"T{row['id']}",
                    title=fields.get("name", ""),
                    status=str(status.get("value", "")),
                    status_name=str(status.get("name", status.get("value", ""))),
                    assignee=(
                        names.get(fields["ownerPHID"], fields["ownerPHID"])
                        if fields.get("ownerPHID")
                        else None
                    ),
                    url=f"{self.url}/T{row['id']}",
                    modified=datetime.fromtimestamp(int(fields.get("dateModified", 0)), UTC),
                )
            )
        return sorted(tasks, key=lambda t: int(t.ref[1:]))

    def _usernames(self, phids: list[str]) -> dict[str, str]:
        if not phids:
            return {}
        return {
            row["phid"]: row["fields"]["username"]
            for row in self._search("user.search", {"constraints": {"phids": phids}})
        }

    def apply(self, change: TaskChange) -> str:
        number = int(change.ref.removeprefix("T"))
        rows = list(self._search("maniphest.search", {"constraints": {"ids": [number]}}))
        if not rows:
            return "left alone: the task is gone"
        modified = datetime.fromtimestamp(int(rows[0]["fields"].get("dateModified", 0)), UTC)
        if modified != change.read_modified:
            return f"left alone: changed since it was read ({modified.isoformat()})"
        transactions: list[dict[str, Any]] = [{"type": "comment", "value": change.comment}]
        if change.action == "unassign":
            transactions.append({"type": "owner", "value": None})
        elif change.reassign and change.owner:
            found = list(
                self._search("user.search", {"constraints": {"usernames": [change.owner]}})
            )
            if not found:
                return f"left alone: no user {change.owner} in Phabricator"
            transactions.append({"type": "owner", "value": found[0]["phid"]})
        self.conduit("maniphest.edit", {"objectIdentifier": number, "transactions": transactions})
        return "applied"

    def comment(self, ref: str, text: str) -> None:
        number = int(ref.removeprefix("T"))
        transactions = [{"type": "comment", "value": text}]
        self.conduit("maniphest.edit", {"objectIdentifier": number, "transactions": transactions})
