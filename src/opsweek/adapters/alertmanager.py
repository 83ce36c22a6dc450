"""Alertmanager's API v2, for one cluster: the instances of an HA pair (or more) gossip
silences between them, so opsweek writes to one (the first that answers) and reads from all,
one silence or alert once (by id, by fingerprint).

``[[alertmanager.instances]]``: ``name``, ``url``, ``cluster`` (instances with the same
cluster are one; by default each is its own), ``header_env`` (the name of an environment
variable holding an ``Authorization`` header's value, for an Alertmanager behind a proxy)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from opsweek.errors import ConfigError, Unavailable

NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
TIMEOUT = 10.0
FIELDS = {"name", "url", "cluster", "header_env"}


@dataclass(frozen=True)
class AmInstance:
    name: str
    url: str
    cluster: str
    header_env: str = ""

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> AmInstance:
        name, url = str(entry.get("name") or ""), str(entry.get("url") or "").rstrip("/")
        if not NAME.fullmatch(name) or not url.startswith(("http://", "https://")):
            raise ConfigError(
                "each [[alertmanager.instances]] needs a name (letters, digits, - and _) and "
                "an http(s) url"
            )
        unknown = set(entry) - FIELDS
        if unknown:
            raise ConfigError(f"[[alertmanager.instances]] {name}: unknown keys {sorted(unknown)}")
        cluster = str(entry.get("cluster") or name)
        if not NAME.fullmatch(cluster):
            raise ConfigError(f"[[alertmanager.instances]] {name}: cluster is a plain name")
        return cls(name, url, cluster, str(entry.get("header_env") or ""))


def clusters(entries: list[dict[str, Any]]) -> dict[str, list[AmInstance]]:
    """The configured instances by cluster, in the order written."""
    found: dict[str, list[AmInstance]] = {}
    for entry in entries:
        instance = AmInstance.from_entry(entry)
        found.setdefault(instance.cluster, []).append(instance)
    return found


class AlertmanagerCluster:
    def __init__(
        self,
        name: str,
        instances: list[AmInstance],
        env: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        environ = os.environ if env is None else env
        self.name = name
        self.instances = instances
        self._clients = []
        for instance in instances:
            headers = {"Accept": "application/json"}
            if instance.header_env:
                value = environ.get(instance.header_env, "")
                if not value:
                    raise ConfigError(
                        f"alertmanager {instance.name}: ${instance.header_env} is not set"
                    )
                headers["Authorization"] = value
            self._clients.append(
                httpx.Client(
                    base_url=instance.url, headers=headers, timeout=TIMEOUT, transport=transport
                )
            )

    @property
    def urls(self) -> list[str]:
        return [instance.url for instance in self.instances]

    def _each(self, method: str, path: str, **kwargs: Any) -> list[Any]:
        """The answer of every instance that answers; Unavailable when none does."""
        answers, errors = [], []
        for instance, client in zip(self.instances, self._clients, strict=True):
            try:
                answer = client.request(method, f"/api/v2{path}", **kwargs)
                answer.raise_for_status()
                answers.append(answer.json())
            except (httpx.HTTPError, ValueError) as exc:
                errors.append(f"{instance.name} ({instance.url}): {_said(exc)}")
        if not answers:
            raise Unavailable(f"alertmanager {self.name}: " + "; ".join(errors))
        return answers

    def _first(
        self, method: str, path: str, next_on_5xx: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """The answer of the first instance that answers (a write: the others learn it by
        gossip)."""
        errors = []
        for instance, client in zip(self.instances, self._clients, strict=True):
            try:
                answer = client.request(method, f"/api/v2{path}", **kwargs)
            except httpx.HTTPError as exc:
                errors.append(f"{instance.name} ({instance.url}): {_said(exc)}")
                continue
            if answer.status_code >= 500 and next_on_5xx:
                errors.append(f"{instance.name} ({instance.url}): {answer.status_code}")
                continue
            return answer
        raise Unavailable(f"alertmanager {self.name}: " + "; ".join(errors))

    # --- reading --------------------------------------------------------------------------
    def silences(self) -> list[dict[str, Any]]:
        """Every silence any instance knows, once (the newest update of each)."""
        found: dict[str, dict[str, Any]] = {}
        for answer in self._each("GET", "/silences"):
            for silence in answer if isinstance(answer, list) else []:
                known = found.get(silence["id"])
                if known is None or str(silence.get("updatedAt")) > str(known.get("updatedAt")):
                    found[silence["id"]] = silence
        return list(found.values())

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts the instances hold (firing, silenced or inhibited), once each."""
        found: dict[str, dict[str, Any]] = {}
        for answer in self._each("GET", "/alerts"):
            for alert in answer if isinstance(answer, list) else []:
                found.setdefault(str(alert.get("fingerprint")), alert)
        return list(found.values())

    def statuses(self) -> list[tuple[AmInstance, dict[str, Any] | str]]:
        """Each instance's ``/api/v2/status`` (version, cluster, configuration), or why it
        could not be read."""
        found: list[tuple[AmInstance, dict[str, Any] | str]] = []
        for instance, client in zip(self.instances, self._clients, strict=True):
            try:
                answer = client.get("/api/v2/status")
                answer.raise_for_status()
                found.append((instance, answer.json()))
            except (httpx.HTTPError, ValueError) as exc:
                found.append((instance, _said(exc)))
        return found

    # --- writing --------------------------------------------------------------------------
    def create(
        self,
        matchers: list[dict[str, Any]],
        starts_at: datetime,
        ends_at: datetime,
        created_by: str,
        comment: str,
        silence_id: str | None = None,
    ) -> str:
        """A silence (or, with ``silence_id``, a new end for it); its id (Alertmanager may
        give an extended silence a new one)."""
        body: dict[str, Any] = {
            "matchers": matchers,
            "startsAt": starts_at.isoformat(),
            "endsAt": ends_at.isoformat(),
            "createdBy": created_by,
            "comment": comment,
        }
        if silence_id:
            body["id"] = silence_id
        answer = self._first("POST", "/silences", json=body)
        if answer.status_code >= 400:
            detail = answer.text.strip().replace("\n", " ")[:300]
            raise Unavailable(f"alertmanager {self.name} refused the silence: {detail}")
        return str(answer.json()["silenceID"])

    def expire(self, silence_id: str) -> None:
        """Expire a silence; one already expired or unknown is left as it is."""
        answer = self._first("DELETE", f"/silence/{silence_id}", next_on_5xx=False)
        detail = answer.text.strip().replace("\n", " ")[:300]
        if answer.status_code < 400 or answer.status_code == 404 or "already expired" in detail:
            return
        raise Unavailable(f"alertmanager {self.name}: expire {silence_id}: {detail}")

    def close(self) -> None:
        for client in self._clients:
            client.close()


def _said(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"{exc.response.status_code} {exc.response.text.strip()[:200]}"
    return str(exc) or type(exc).__name__
