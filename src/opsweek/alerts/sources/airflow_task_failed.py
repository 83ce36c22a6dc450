"""Airflow task failure e-mails:
``Airflow alert: <TaskInstance: dag.task run_id [failed]>`` with an HTML body (Airflow's own
template), or a plain-text one (``Log: <url>``, ``Log: Link (url)``, ``Host: …``, ``Mark
success: <url>``); task groups (``dag.group.task``) and mapped tasks (``map_index=N``). A
subject that names the task instance in another shape is still this kind, with what it lacks
marked unknown."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import ParsedAlert, clean_text, digest, expect, unknown

KIND = "airflow_task_failed"
SUBJECT = re.compile(
    r"Airflow alert: <TaskInstance: (?P<ti>\S+) (?P<run_id>\S+)"
    r"(?: map_index=(?P<map_index>-?\d+))? \[(?P<state>[a-z_]+)\]>"
)
TRIES = re.compile(r"Try (?P<try>\d+) out of (?P<max>\d+)")
LINK = re.compile(
    r"^\s*(?P<label>Log|Mark success)\s*:\s*(?:Link\s*)?[(<]?(?P<url>https?://[^)>\s]+)",
    re.MULTILINE | re.IGNORECASE,
)
LOOSE = re.compile(r"Airflow alert:?\s*<?TaskInstance:\s*(?P<ti>[\w.-]+)(?P<rest>[^>]*)", re.I)
HOST = re.compile(r"^\s*Host:\s*(?P<host>\S+)", re.MULTILINE)


def matches(mail: MailMessage) -> bool:
    return SUBJECT.search(mail.subject) is not None or LOOSE.search(mail.subject) is not None


def parse(mail: MailMessage) -> list[ParsedAlert]:
    subject = SUBJECT.search(mail.subject)
    if subject is None:
        return [_degraded(mail, expect(LOOSE.search(mail.subject), "not an Airflow task alert"))]
    links = {m["label"].capitalize(): m["url"] for m in LINK.finditer(mail.text)}
    log_url = links.get("Log", "")
    dag_id, task_id = _dag_and_task(subject["ti"], log_url)
    tries = TRIES.search(mail.text)
    host = HOST.search(mail.text)
    map_index = int(subject["map_index"]) if subject["map_index"] else None
    details = {
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": subject["run_id"],
        "state": subject["state"],
        "map_index": map_index,
        "try_number": int(tries["try"]) if tries else None,
        "max_tries": int(tries["max"]) if tries else None,
        "log_url": log_url,
        "mark_success_url": links.get("Mark success", ""),
        "host": host["host"] if host else "",
        "exception": _exception(mail.text),
        "airflow_instance": _instance(mail.sender),
        "base_url": _base_url(log_url),
    }
    title = f"{dag_id}.{task_id} {subject['state']} ({subject['run_id']})"
    return [
        ParsedAlert(
            kind=KIND,
            source="airflow",
            title=clean_text(title),
            fingerprint=digest(KIND, dag_id, task_id, subject["run_id"], map_index),
            severity="error" if subject["state"] == "failed" else "warning",
            details=details,
            group_key=digest(KIND, dag_id, subject["run_id"]),
            occurred_at=mail.date,
        )
    ]


def _degraded(mail: MailMessage, loose: re.Match[str]) -> ParsedAlert:
    """A task instance named in another shape than Airflow's (a rewritten subject): the
    task, what the body says, and what is not known said so."""
    links = {m["label"].capitalize(): m["url"] for m in LINK.finditer(mail.text)}
    log_url = links.get("Log", "")
    dag_id, task_id = _dag_and_task(loose["ti"], log_url)
    words = loose["rest"].split()
    state = next((w.strip("[]") for w in words if w.startswith("[")), "failed")
    run_id = next((w for w in words if "__" in w or w[:4].isdigit()), "")
    details = {
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "state": state if state in ("failed", "up_for_retry") else "failed",
        "map_index": None,
        "try_number": None,
        "max_tries": None,
        "log_url": log_url,
        "mark_success_url": links.get("Mark success", ""),
        "host": "",
        "exception": _exception(mail.text),
        "airflow_instance": _instance(mail.sender),
        "base_url": _base_url(log_url),
        "unknown": [] if run_id else [unknown("which run failed", "the DAG's grid in Airflow")],
    }
    return ParsedAlert(
        kind=KIND,
        source="airflow",
        title=clean_text(f"{dag_id}.{task_id} {details['state']} ({run_id or 'run unknown'})"),
        fingerprint=digest(KIND, dag_id, task_id, run_id or mail.message_id or mail.subject),
        severity="error",
        details=details,
        group_key=digest(KIND, dag_id, run_id),
        occurred_at=mail.date,
    )


def _dag_and_task(ti: str, log_url: str) -> tuple[str, str]:
    """dag_id and task_id may both contain dots: the log URL names them unambiguously."""
    query = parse_qs(urlparse(log_url).query)
    if query.get("dag_id") and query.get("task_id"):
        return query["dag_id"][0], query["task_id"][0]
    path = urlparse(log_url).path.split("/")
    if "dags" in path and "runs" in path and "tasks" in path:  # Airflow 3 style URL
        return path[path.index("dags") + 1], path[path.index("tasks") + 1]
    dag_id, _, task_id = ti.partition(".")
    return dag_id, task_id


def _exception(text: str) -> str:
    match = re.search(r"Exception:\s*\n(?P<body>.*?)(?:\n\s*Log:|\Z)", text, re.DOTALL)
    return match["body"].strip()[:4000] if match else ""


def _instance(sender: str) -> str:
    match = re.match(r'\s*"?(airflow-[\w-]+)', sender)
    return match.group(1) if match else ""


def _base_url(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}" if parsed.scheme and parsed.netloc else ""
