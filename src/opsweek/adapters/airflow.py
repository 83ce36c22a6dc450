"""Airflow's stable REST API, for one instance: Airflow 3 (`/api/v2`) or Airflow 2 (`/api/v1`),
told apart by asking the server (`/api/v2/version` answers on Airflow 3 only).

Credentials: a bearer token, or a user and password. With a password, Airflow 3 hands out a
token at `/auth/token` (asked again when it expires); Airflow 2 takes basic auth. Secrets come
from the environment (the settings name the variables), never from the settings file."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from opsweek.errors import ConfigError, Unavailable
from opsweek.site import AirflowCli

NAME = re.compile(r"[A-Za-z0-9_-]{1,24}")
PAGE = 100
TIMEOUT = 15.0


class CredentialsRefused(Unavailable):
    """The instance answered, but refused opsweek's credentials (401 or 403)."""


@dataclass(frozen=True)
class AirflowInstance:
    """One ``[[airflow.instances]]`` entry, checked."""

    name: str  # analytics, analytics-product, search, main ...
    url: str  # the web server's base URL
    user: str = ""
    password_env: str = ""
    token_env: str = ""
    area: str = ""  # "dumps" for an instance running the dumps' DAGs
    cli_host: str = ""  # where its CLI runs, for the steps that print it ("" : the UI)
    cli_user: str = ""  # the account its CLI runs as there (sudo -u)
    cli: str = "airflow"  # its CLI's program there

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> AirflowInstance:
        name, url = str(entry.get("name") or ""), str(entry.get("url") or "").rstrip("/")
        if not NAME.fullmatch(name) or not url.startswith(("http://", "https://")):
            raise ConfigError(
                "each [[airflow.instances]] needs a name (letters, digits, - and _; at most 24) "
                "and an http(s) url"
            )
        known = {
            "name",
            "url",
            "user",
            "password_env",
            "token_env",
            "area",
            "cli_host",
            "cli_user",
            "cli",
        }
        unknown = set(entry) - known
        if unknown:
            raise ConfigError(f"[[airflow.instances]] {name}: unknown keys {sorted(unknown)}")
        area = str(entry.get("area") or "")
        if area not in ("", "dumps"):
            raise ConfigError(f"[[airflow.instances]] {name}: area is 'dumps' or not given")
        instance = cls(
            name,
            url,
            str(entry.get("user") or ""),
            str(entry.get("password_env") or ""),
            str(entry.get("token_env") or ""),
            area,
            str(entry.get("cli_host") or ""),
            str(entry.get("cli_user") or ""),
            str(entry.get("cli") or "airflow"),
        )
        if instance.cli_host:
            try:
                instance.cli_site().check_cli()
            except ValueError as exc:
                raise ConfigError(f"[[airflow.instances]] {name}: {exc}") from None
        return instance

    def cli_site(self) -> AirflowCli:
        """Where this instance's CLI runs, for the steps (`opsweek.site`)."""
        return AirflowCli(self.name, self.cli_host, self.cli_user, self.cli)


@dataclass(frozen=True)
class TaskInstance:
    """A task instance as both API versions describe it (the fields opsweek reads)."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int | None  # None for a task that is not mapped (the API's -1)
    state: str
    try_number: int | None
    max_tries: int | None
    hostname: str
    start_date: str | None
    end_date: str | None
    logical_date: str | None = None  # Airflow 2 calls it execution_date

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> TaskInstance:
        map_index = data.get("map_index")
        return cls(
            dag_id=str(data["dag_id"]),
            task_id=str(data["task_id"]),
            run_id=str(data.get("dag_run_id") or data.get("run_id") or ""),
            map_index=None if map_index in (None, -1) else int(map_index),
            state=str(data.get("state") or ""),
            try_number=data.get("try_number"),
            max_tries=data.get("max_tries"),
            hostname=str(data.get("hostname") or ""),
            start_date=data.get("start_date"),
            end_date=data.get("end_date"),
            logical_date=data.get("logical_date") or data.get("execution_date"),
        )

    def as_json(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class DagRun:
    """A DAG run as both API versions describe it (the fields opsweek reads)."""

    dag_id: str
    run_id: str
    state: str
    logical_date: str | None  # None for an Airflow 3 run triggered without one
    run_type: str
    start_date: str | None
    end_date: str | None
    note: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> DagRun:
        return cls(
            dag_id=str(data["dag_id"]),
            run_id=str(data["dag_run_id"]),
            state=str(data.get("state") or ""),
            logical_date=data.get("logical_date") or data.get("execution_date"),
            run_type=str(data.get("run_type") or ""),
            start_date=data.get("start_date"),
            end_date=data.get("end_date"),
            note=str(data.get("note") or ""),
        )

    def as_json(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class Call:
    """A request that changes something in Airflow, as it will be sent."""

    method: str
    path: str  # under the instance's URL, /api/v2/... or /api/v1/...
    body: dict[str, Any]
    params: dict[str, str]

    def describe(self, base_url: str) -> str:
        query = "?" + "&".join(f"{k}={v}" for k, v in self.params.items()) if self.params else ""
        return f"{self.method} {base_url}{self.path}{query} {json.dumps(self.body)}"


class AirflowClient:
    def __init__(
        self,
        instance: AirflowInstance,
        env: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        environ = os.environ if env is None else env
        self.instance = instance
        self._token = environ.get(instance.token_env, "") if instance.token_env else ""
        self._password = environ.get(instance.password_env, "") if instance.password_env else ""
        missing = [
            name
            for name, value in (
                (instance.token_env, self._token),
                (instance.password_env, self._password),
            )
            if name and not value
        ]
        # said when the instance is first asked, so pages that only name it never fail
        self._missing = (
            f"airflow {instance.name} ({instance.url}): ${missing[0]} is not set" if missing else ""
        )
        self._http = httpx.Client(base_url=instance.url, timeout=TIMEOUT, transport=transport)
        self._version: str | None = None
        self._session_token = ""
        self.requests = 0  # sent so far (what a poll costs the instance)

    # --- plumbing -------------------------------------------------------------------------
    @property
    def api(self) -> str:
        """``v2`` (Airflow 3) or ``v1`` (Airflow 2), asked of the server once."""
        if self._version is None:
            answer = self._send("GET", "/api/v2/version", authenticate=False, check=False)
            self._version = "v2" if answer.status_code == 200 else "v1"
        return self._version

    def _headers(self) -> dict[str, str]:
        if self._missing:
            raise ConfigError(self._missing)
        if self._token:
            return {"Authorization": f"Bearer {self._token}"}
        if self.instance.user and self.api == "v2":
            if not self._session_token:
                answer = self._send(
                    "POST",
                    "/auth/token",
                    json={"username": self.instance.user, "password": self._password},
                    authenticate=False,
                )
                self._session_token = str(answer.json()["access_token"])
            return {"Authorization": f"Bearer {self._session_token}"}
        return {}

    def _send(
        self,
        method: str,
        path: str,
        *,
        authenticate: bool = True,
        check: bool = True,
        accept: str = "application/json",
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {"Accept": accept, **(self._headers() if authenticate else {})}
        auth = None
        if authenticate and not self._token and self.instance.user and self.api == "v1":
            auth = httpx.BasicAuth(self.instance.user, self._password)
        try:
            self.requests += 1
            answer = self._http.request(method, path, headers=headers, auth=auth, **kwargs)
            if answer.status_code == 401 and authenticate and self._session_token:
                self._session_token = ""  # expired: ask for a new one, once
                headers = {"Accept": accept, **self._headers()}
                self.requests += 1
                answer = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(f"{self._where}: unreachable: {exc}") from None
        if not check or answer.status_code < 400:
            return answer
        detail = answer.text.strip().replace("\n", " ")[:300]
        said = f"{method} {path}: {answer.status_code} {detail}"
        if answer.status_code in (401, 403):
            raise CredentialsRefused(f"{self._where}: credentials refused ({said}); {self._how}")
        raise Unavailable(f"{self._where}: {said}")

    @property
    def _where(self) -> str:
        return f"airflow {self.instance.name} ({self.instance.url})"

    @property
    def _how(self) -> str:
        """What to check when the instance refuses opsweek's credentials."""
        if self._token:
            return (
                f"check ${self.instance.token_env}: a token from /auth/token expires "
                "(user and password_env let opsweek ask for a new one itself)"
            )
        if self.instance.user:
            return f"check user {self.instance.user!r} and ${self.instance.password_env}"
        return "the instance wants credentials: set user and password_env, or token_env"

    def _api(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self._send(method, f"/api/{self.api}{path}", **kwargs)
        return answer.json() if answer.content else None

    @staticmethod
    def _ti_path(dag_id: str, run_id: str, task_id: str, map_index: int | None) -> str:
        path = f"/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}"
        path += f"/taskInstances/{quote(task_id, safe='')}"
        return path if map_index is None else f"{path}/{map_index}"

    # --- reading --------------------------------------------------------------------------
    def version(self) -> str:
        return str(self._api("GET", "/version")["version"])

    def check_access(self) -> str:
        """What `opsweek doctor` says of the instance: its version, that the credentials are
        taken (an authenticated read of one DAG), and when a configured token expires."""
        version = self.version()
        dags = self._api("GET", "/dags", params={"limit": 1})
        said = f"Airflow {version} ({self.api}), {int(dags.get('total_entries') or 0)} DAGs"
        expiry = token_expiry(self._token) if self._token else None
        if expiry:
            said += f"; the token expires {expiry:%Y-%m-%d %H:%M} UTC"
        return said

    def task_instances(
        self,
        states: list[str],
        ended_since: datetime | None = None,
        dag_id: str = "~",
        run_id: str = "~",
        logical_dates: tuple[str, str] | None = None,
        updated_since: datetime | None = None,
    ) -> list[TaskInstance]:
        """Task instances in ``states`` (any state when empty): of every DAG and run by
        default, or of one DAG (``dag_id``) and one run (``run_id``); that ended since
        ``ended_since``; whose logical date is within ``logical_dates`` (first, last); that
        changed since ``updated_since`` (`_updated`)."""
        filters: dict[str, Any] = {}
        if ended_since is not None:
            filters["end_date_gte"] = ended_since.isoformat()
        if updated_since is not None:
            filters.update(self._updated(updated_since))
        if logical_dates is not None:
            first, last = logical_dates
            if self.api == "v2":
                filters.update(logical_date_gte=first, logical_date_lte=last)
            else:
                filters.update(execution_date_gte=first, execution_date_lte=last)
        if self.api == "v2":
            path = f"/dags/{quote(dag_id, safe='~')}/dagRuns/{quote(run_id, safe='~')}"
            items = self._pages("GET", f"{path}/taskInstances", "task_instances", states, filters)
        else:  # Airflow 2 filters DAGs and runs in the body of its list endpoint
            if dag_id != "~":
                filters["dag_ids"] = [dag_id]
            if run_id != "~":
                filters["dag_run_ids"] = [run_id]
            items = self._pages(
                "POST", "/dags/~/dagRuns/~/taskInstances/list", "task_instances", states, filters
            )
        return [TaskInstance.from_api(item) for item in items]

    def dag_runs(
        self,
        states: list[str],
        ended_since: datetime | None = None,
        updated_since: datetime | None = None,
    ) -> list[DagRun]:
        """DAG runs of every DAG in ``states`` that ended since ``ended_since``, or changed
        since ``updated_since`` (`_updated`)."""
        filters: dict[str, Any] = {}
        if ended_since is not None:
            filters["end_date_gte"] = ended_since.isoformat()
        if updated_since is not None:
            filters.update(self._updated(updated_since))
        if self.api == "v2":
            items = self._pages("GET", "/dags/~/dagRuns", "dag_runs", states, filters)
        else:
            items = self._pages(
                "POST", "/dags/~/dagRuns/list", "dag_runs", states, filters, "states"
            )
        return [DagRun.from_api(item) for item in items]

    def _updated(self, since: datetime) -> dict[str, str]:
        """The filter for what changed since ``since`` (Airflow 3: Airflow 2's list
        endpoints only know when things ended)."""
        if self.api != "v2":
            raise ValueError("Airflow 2's list endpoints do not filter on updated_at")
        return {"updated_at_gte": since.isoformat()}

    def dag_paused(self, dag_id: str) -> bool:
        return bool(self._api("GET", f"/dags/{quote(dag_id, safe='')}").get("is_paused"))

    def dag_run(self, dag_id: str, run_id: str) -> DagRun:
        path = f"/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}"
        return DagRun.from_api(self._api("GET", path))

    def _pages(
        self,
        method: str,
        path: str,
        key: str,
        states: list[str],
        filters: dict[str, Any],
        states_field: str = "state",
    ) -> list[dict[str, Any]]:
        """Every item of a list endpoint, page by page: GET with query parameters (Airflow 3)
        or POST with a body (Airflow 2's ``.../list`` endpoints)."""
        found: list[dict[str, Any]] = []
        while True:
            if method == "GET":
                params: list[tuple[str, Any]] = [("state", s) for s in states]
                params += [*filters.items(), ("limit", PAGE), ("offset", len(found))]
                page = self._api("GET", path, params=params)
            else:
                body = {**filters, "page_limit": PAGE, "page_offset": len(found)}
                if states:
                    body[states_field] = states
                page = self._api("POST", path, json=body)
            items = list(page.get(key) or [])
            found += items
            if not items or len(found) >= int(page.get("total_entries") or 0):
                return found

    def task_instance(
        self, dag_id: str, run_id: str, task_id: str, map_index: int | None
    ) -> TaskInstance:
        return TaskInstance.from_api(
            self._api("GET", self._ti_path(dag_id, run_id, task_id, map_index))
        )

    def events(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """The audit log of a DAG run, newest first: who cleared, marked or ran what."""
        params = {"dag_id": dag_id, "run_id": run_id, "limit": PAGE, "order_by": "-when"}
        found = self._api("GET", "/eventLogs", params=params)
        return list((found or {}).get("event_logs") or [])

    def log_tail(
        self, dag_id: str, run_id: str, task_id: str, try_number: int, lines: int = 50
    ) -> str:
        """The last ``lines`` lines of a try's log."""
        path = self._ti_path(dag_id, run_id, task_id, None) + f"/logs/{try_number}"
        params = {"full_content": "true"}
        if self.api == "v1":  # as text: its JSON holds the repr of a list of (host, log) pairs
            answer = self._send("GET", f"/api/v1{path}", params=params, accept="text/plain")
            return "\n".join(answer.text.splitlines()[-lines:])
        data = self._api("GET", path, params=params)
        content = data.get("content") if isinstance(data, dict) else data
        if isinstance(content, list):  # Airflow 3: structured events
            text = "\n".join(line for event in content for line in _event_lines(event))
        else:
            text = str(content or "")
        return "\n".join(text.splitlines()[-lines:])

    # --- acting: each action is a `Call`, shown before it is sent ---------------------------
    def clear_call(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int | None,
        downstream: bool = False,
    ) -> Call:
        """Clear a failed task instance (only failed ones; ``downstream`` too) so it runs
        again."""
        task: Any = task_id if map_index is None else [task_id, map_index]
        return self._clear(dag_id, run_id, {"task_ids": [task], "include_downstream": downstream})

    def clear_run_call(self, dag_id: str, run_id: str) -> Call:
        """Clear every failed task instance of a DAG run so they run again."""
        return self._clear(dag_id, run_id, {"include_downstream": True})

    def _clear(self, dag_id: str, run_id: str, which: dict[str, Any]) -> Call:
        body = {
            "dry_run": False,
            "dag_run_id": run_id,
            "only_failed": True,
            "include_upstream": False,
            "reset_dag_runs": True,
            **which,
        }
        return self._call("POST", f"/dags/{quote(dag_id, safe='')}/clearTaskInstances", body)

    def mark_run_success_call(self, dag_id: str, run_id: str) -> Call:
        """Mark a DAG run successful (Airflow marks its unfinished task instances too)."""
        path = f"/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}"
        return self._call("PATCH", path, {"state": "success"})

    def mark_success_call(
        self, dag_id: str, run_id: str, task_id: str, map_index: int | None
    ) -> Call:
        body: dict[str, Any] = {"new_state": "success"}
        if self.api == "v1":
            body["dry_run"] = False
        return self._call("PATCH", self._ti_path(dag_id, run_id, task_id, map_index), body)

    def pause_call(self, dag_id: str, paused: bool) -> Call:
        return self._call(
            "PATCH",
            f"/dags/{quote(dag_id, safe='')}",
            {"is_paused": paused},
            {"update_mask": "is_paused"},
        )

    def _call(
        self, method: str, path: str, body: dict[str, Any], params: dict[str, str] | None = None
    ) -> Call:
        return Call(method, f"/api/{self.api}{path}", body, params or {})

    def send(self, call: Call) -> Any:
        answer = self._send(call.method, call.path, json=call.body, params=call.params)
        return answer.json() if answer.content else None

    def close(self) -> None:
        self._http.close()


def token_expiry(token: str) -> datetime | None:
    """When a JWT says it expires (its ``exp``; read, not verified), else None."""
    import base64
    from datetime import UTC

    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(data["exp"]), UTC)
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def _event_lines(event: Any) -> list[str]:
    """An Airflow 3 log event as text: its time, level and message, then its exceptions."""
    if not isinstance(event, dict):
        return [str(event)]
    lines = [" ".join(str(event[k]) for k in ("timestamp", "level", "event") if event.get(k))]
    for error in event.get("error_detail") or []:
        if isinstance(error, dict):
            lines.append(f"  {error.get('exc_type')}: {error.get('exc_value')}")
    return lines
