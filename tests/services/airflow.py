"""A real Apache Airflow 3 (`airflow standalone`: API server, scheduler, DAG processor,
triggerer; SQLite, LocalExecutor) on 127.0.0.1, from its own venv (`.venv-airflow`, made by
scripts/test: Airflow's pins conflict with opsweek's), with the DAGs of airflow_dags/."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.services.common import free_port, missing_service, wait_until_ready

ROOT = Path(__file__).resolve().parents[2]
DAGS = Path(__file__).with_name("airflow_dags")
USER, PASSWORD = "admin", "opsweek-test-password"


@dataclass
class AirflowServer:
    url: str
    home: Path

    def token(self) -> str:
        answer = httpx.post(
            f"{self.url}/auth/token", json={"username": USER, "password": PASSWORD}, timeout=10
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def api(self, method: str, path: str, **kwargs: object) -> dict:
        headers = {"Authorization": f"Bearer {self.token()}"}
        answer = httpx.request(
            method, f"{self.url}/api/v2{path}", headers=headers, timeout=10, **kwargs
        )  # type: ignore[arg-type]
        answer.raise_for_status()
        return answer.json() if answer.content else {}

    def trigger(self, dag_id: str, logical_date: str | None = None) -> str:
        """Unpause ``dag_id`` and start a run of it (for ``logical_date``: none by default,
        as Airflow 3's manual runs); the run's id."""
        deadline = time.monotonic() + 60
        while True:  # the DAG processor parses the file first
            try:
                self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
                break
            except httpx.HTTPStatusError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": logical_date})
        return str(run["dag_run_id"])

    def wait_for_state(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        states: set[str],
        min_try: int = 0,
        timeout: float = 240,
    ) -> dict:
        """The task instance once it is in one of ``states`` (on try ``min_try`` or later)."""
        deadline = time.monotonic() + timeout
        found: dict = {}
        path = (
            f"/dags/{dag_id}/dagRuns/{httpx.URL(run_id).raw_path.decode()}/taskInstances/{task_id}"
        )
        while True:
            try:
                found = self.api("GET", path)
                if found.get("state") in states and (found.get("try_number") or 0) >= min_try:
                    return found
            except httpx.HTTPStatusError:
                pass  # the task instance is not there yet (404 while the run is created)
            if time.monotonic() > deadline:
                log = (self.home / "standalone.log").read_text(errors="replace")[-4000:]
                raise TimeoutError(
                    f"{dag_id}.{task_id} never reached {states} (try >= {min_try}); last seen "
                    f"{found.get('state')} on try {found.get('try_number')}\n{log}"
                )
            time.sleep(1)

    def wait_for_run(self, dag_id: str, run_id: str, states: set[str]) -> None:
        """Until the DAG run is in one of ``states``: a task cleared while its run is still
        being finished can be left unscheduled when the scheduler then fails the run."""
        path = f"/dags/{dag_id}/dagRuns/{httpx.URL(run_id).raw_path.decode()}"
        deadline = time.monotonic() + 120
        while self.api("GET", path).get("state") not in states:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the run {run_id} of {dag_id} never reached {states}")
            time.sleep(1)


def airflow_venv() -> Path:
    return Path(os.environ.get("AIRFLOW_VENV") or ROOT / ".venv-airflow")


@contextmanager
def airflow() -> Iterator[AirflowServer]:
    binary = airflow_venv() / "bin" / "airflow"
    if not binary.exists():
        missing_service(f"Airflow not installed in {airflow_venv()} (scripts/test makes it)")
    home = Path(tempfile.mkdtemp(prefix="opsweek-airflow-"))
    dags = home / "dags"
    shutil.copytree(DAGS, dags)
    (home / "passwords.json").write_text(json.dumps({USER: PASSWORD}))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "OPSWEEK_"))},
        "PATH": f"{binary.parent}:{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "FLAKY_MARKERS": str(home),
    }
    log = (home / "standalone.log").open("wb")
    process = subprocess.Popen(
        [str(binary), "standalone"],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its scheduler, workers and servers go with it
    )

    def tail() -> str:
        return (home / "standalone.log").read_text(errors="replace")[-3000:]

    try:
        wait_until_ready(f"{url}/api/v2/version", process, tail, timeout=180)
        yield AirflowServer(url, home)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(home, ignore_errors=True)
