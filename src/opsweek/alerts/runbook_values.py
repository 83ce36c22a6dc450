"""Values the runbook's steps use that are computed from an alert's parsed details (pure):
the logical date of an Airflow run, a Refine rerun as checked argv, the partition of a data
loss report, the host an Alertmanager alert names. A value that cannot be computed is simply
absent, and the step that needs it says so instead of printing a broken command."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from opsweek.alerts.model import unknown
from opsweek.alerts.sources.alertmanager import family_of, java_daemon
from opsweek.alerts.sources.refine_failure import RerunOptions, rerun_options, rerun_window
from opsweek.site import DEFAULT_SITE, Site

# run ids Airflow makes itself: <type>__<logical date>
RUN_ID = re.compile(r"^(?:scheduled|manual|backfill|dataset_triggered|asset_triggered)__(.+)\Z")
HOSTNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*\Z")


def derived(kind: str, details: Mapping[str, Any], site: Site = DEFAULT_SITE) -> dict[str, Any]:
    """The values computed from an alert's details for its steps; ``site`` says where the
    commands run and as whom."""
    compute = DERIVED.get(kind)
    return compute(details, site) if compute else {}


def _airflow_cli(details: Mapping[str, Any], site: Site) -> dict[str, Any]:
    """Where this alert's Airflow instance's CLI runs and as whom, when the site says."""
    cli = site.airflow_cli(str(details.get("airflow_instance") or ""))
    return {"airflow_cli": cli.argv(), "airflow_host": cli.host} if cli else {}


def _airflow_task(details: Mapping[str, Any], site: Site) -> dict[str, Any]:
    extra: dict[str, Any] = _airflow_cli(details, site)
    logical = _cli_logical_date(details)
    if logical:
        extra["logical_date"] = logical
    task_id = str(details.get("task_id") or "")
    if task_id:
        extra["task_regex"] = f"^{re.escape(task_id)}$"
    log_url = str(details.get("log_url") or "")
    extra["airflow2_ui"] = bool(details.get("base_url")) and "/runs/" not in log_url
    state = details.get("state")
    extra["is_failed"] = state == "failed"
    extra["cli_failed"] = extra["is_failed"] and "airflow_cli" in extra
    extra["ui_failed"] = extra["is_failed"] and "airflow_cli" not in extra
    extra["is_retry"] = state == "up_for_retry"
    extra["acts_failed"] = extra["is_failed"] and bool(details.get("polled"))
    lines = [line.strip() for line in str(details.get("exception") or "").splitlines()]
    said = [line for line in lines if line]
    if said:  # an exception's type and value close its excerpt
        extra["error"] = said[-1][:300]
    extra["is_druid"] = "druid" in f"{details.get('dag_id')} {task_id}".lower()
    extra["druid_task_unknown"] = extra["is_druid"] and not details.get("druid_task_id")
    return extra


def _airflow_run(details: Mapping[str, Any], site: Site) -> dict[str, Any]:
    extra = _airflow_cli(details, site)
    logical = _cli_logical_date(details)
    if logical and extra:
        extra["cli_logical_date"] = logical
    return extra


def _cli_logical_date(details: Mapping[str, Any]) -> str:
    """The logical date of an Airflow alert's run, as Airflow's CLI takes it: as the API said
    it, for what a poll read (none for Airflow 3's manual runs, whose run id still carries a
    date); else from a run id Airflow made, for what an e-mail said."""
    if not details.get("polled"):
        return logical_date(str(details.get("run_id") or ""))
    try:
        moment = datetime.fromisoformat(
            str(details.get("logical_date") or "").replace("Z", "+00:00")
        )
    except ValueError:
        return ""
    return moment.isoformat() if moment.tzinfo else ""


def logical_date(run_id: str) -> str:
    """The logical date in a run id Airflow made (``scheduled__2023-10-01T00:00:00+00:00``),
    as Airflow's CLI takes it; "" for run ids that do not carry one."""
    match = RUN_ID.match(run_id)
    if not match:
        return ""
    try:
        moment = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
    except ValueError:
        return ""
    return moment.isoformat() if moment.tzinfo else ""


def _refine(details: Mapping[str, Any], site: Site) -> dict[str, Any]:
    """The rerun of a Refine failure, made by opsweek: the job from the subject, if it is one
    of ``site.refine_jobs``; the account and the wrapper from the site; from the e-mail only
    Refine's options, each checked (`rerun_options`). An e-mail that asks for anything else
    gets no rerun, and says why (``rerun_refused``)."""
    job = str(details.get("job") or "")
    command = str(details.get("rerun_command") or "")
    reran = [str(a) for a in details.get("rerun_applications") or []]
    if reran:
        return {
            **_refine({**details, "rerun_applications": []}, site),
            "rerun_application": reran[-1],
        }
    problems = []
    if job not in site.refine_jobs:
        problems.append(f"{job or 'its job'} is not one of the Refine jobs opsweek reruns")
    options = rerun_options(command) if command else None
    if options is not None:
        problems += _asked_otherwise(options, job, site)
    if problems:
        return {"rerun_refused": "; ".join(problems)}
    if options is not None and options.flag("since") and options.flag("until"):
        return {"rerun_argv": _rerun_argv(site, job, options.flags)}
    built = _built_flags(details)
    if built is None:
        return {}
    return {"rerun_argv": _rerun_argv(site, job, built), "rerun_built": True}


def _asked_otherwise(options: RerunOptions, job: str, site: Site) -> list[str]:
    """What the e-mail's rerun asks for that opsweek will not do: another account, wrapper
    or job first, then what is wrong with its options."""
    problems = []
    if options.user and options.user != site.jobs_user:
        problems.append(
            f"the e-mail's rerun runs as {options.user}; Refine runs as {site.jobs_user}"
        )
    if options.wrapper and options.wrapper != site.kerberos:
        problems.append(f"the e-mail's rerun runs {options.wrapper}, not {site.kerberos}")
    if options.job and options.job != job:
        problems.append(f"the e-mail's rerun names the job {options.job}, its subject {job}")
    if options.problem:
        problems.append(f"the e-mail's rerun: {options.problem}")
    return problems


def _rerun_argv(site: Site, job: str, flags: Iterable[tuple[str, str]]) -> list[str]:
    return [*site.as_kerberos(site.jobs_user), job, *(f"--{n}={v}" for n, v in flags)]


def _built_flags(details: Mapping[str, Any]) -> list[tuple[str, str]] | None:
    """A rerun's options made from the failed partition, for an e-mail that carries none:
    the table and the hours that failed, with the runbook's flags."""
    table = str(details.get("table") or "")
    window = rerun_window([str(details.get("hour") or "")])
    if not ("." in table and window):
        return None
    return [
        ("ignore_failure_flag", "true"),
        ("table_include_regex", table.split(".", 1)[1]),
        ("since", window[0]),
        ("until", window[1]),
    ]


def _refine_monitor(details: Mapping[str, Any], site: Site) -> dict[str, Any]:
    """One backfill per table listed, covering the hours of its targets, with the Refine job
    the monitor watches, when it is one opsweek reruns."""
    job = str(details.get("job") or "")
    refine_job = job.removeprefix("monitor_")
    if refine_job not in site.refine_jobs:
        return {"refine_job": refine_job, "backfills": [], "unknown_job": True}
    backfills = []
    for target in details.get("targets") or []:
        window = rerun_window(target.get("hours") or [])
        table = str(target.get("table") or "")
        if not (window and "." in table):
            continue
        flags = [
            ("ignore_failure_flag", "true"),
            ("table_include_regex", table.split(".", 1)[1]),
            ("since", window[0]),
            ("until", window[1]),
        ]
        backfills.append(
            {
                "table": table,
                "hours": ", ".join(target["hours"]),
                "argv": _rerun_argv(site, refine_job, flags),
            }
        )
    return {"backfills": backfills, "refine_job": refine_job}


def _data_loss(details: Mapping[str, Any], site: Site) -> dict[str, Any]:
    hour = details.get("hour")
    parts = {k: details.get(k) for k in ("webrequest_source", "year", "month", "day")}
    missing = [
        unknown(field, look)
        for field, look, lacking in (
            (
                "which webrequest source",
                "the name of the DAG that loaded it",
                not parts["webrequest_source"],
            ),
            ("which day", "the Airflow task's logical date", parts["day"] in (None, "")),
            ("which hour", "the Airflow task's logical date", hour in (None, "")),
        )
        if lacking
    ]
    if any(v in (None, "") for v in parts.values()):
        return {"unknown": missing}
    return {
        **parts,
        "hour": hour,
        "has_partition": True,
        "has_hour": hour not in (None, ""),
        "unknown": missing,
    }


def _alertmanager(details: Mapping[str, Any], site: Site) -> dict[str, Any]:
    labels = {str(k): str(v) for k, v in (details.get("labels") or {}).items()}
    annotations = details.get("annotations") or {}
    alertname = str(details.get("alertname") or "")
    extra: dict[str, Any] = {
        "runbook_url": _first(annotations, "runbook_url", "runbook"),
        "dashboard_url": _first(annotations, "dashboard", "dashboard_url", "grafana"),
        "family": details.get("family") or family_of(alertname, labels),
        "label_lines": [f"{k}={v}" for k, v in sorted(labels.items()) if k != "alertname"],
        "namespace": labels.get("namespace", ""),
    }
    instance = str(labels.get("instance") or details.get("instance") or "")
    host = instance.rsplit(":", 1)[0] if instance.count(":") == 1 else instance
    if host and HOSTNAME.match(host):
        extra["host"] = host
    if extra["family"] == "java_daemon":
        daemon = java_daemon(alertname, labels)
        if daemon:
            extra.update(daemon_unit=daemon.unit, daemon_user=daemon.user)
        else:
            extra["daemon_unknown"] = True
    return extra


def _first(values: Mapping[str, Any], *keys: str) -> str:
    return next((str(values[key]) for key in keys if values.get(key)), "")


def _unexpected_pageview_values(details: Mapping[str, Any], site: Site) -> dict[str, Any]:
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", str(details.get("date") or ""))
    if not match:
        return {}
    return {"year": int(match[1]), "month": int(match[2]), "day": int(match[3])}


def _anomaly(details: Mapping[str, Any], site: Site) -> dict[str, Any]:
    try:
        day = datetime.strptime(str(details.get("date") or ""), "%Y-%m-%d")
        week_before = {"week_before": (day - timedelta(days=7)).strftime("%Y-%m-%d")}
    except ValueError:
        week_before = {}
    return {
        **week_before,
        f"is_{details.get('family', '')}": True,
        "metric_lines": [
            f"{m['metric']}: deviation {m['deviation']:+g}"
            for m in (details.get("metrics") or [])[:10]
        ],
    }


def _mw_history(details: Mapping[str, Any], site: Site) -> dict[str, Any]:
    snapshot = str(details.get("snapshot") or "")
    if not re.fullmatch(r"\d{4}-\d{2}", snapshot):
        return {}
    services = details.get("services") or ["edit-analytics", "editor-analytics"]
    return {
        "services": [s for s in services if re.fullmatch(r"[a-z0-9-]+", str(s))],
        "sqoop_flags": f"/wmf/data/raw/mediawiki/tables/*/snapshot={snapshot}/_SUCCESS",
    }


def _airflow_sla(details: Mapping[str, Any], site: Site) -> dict[str, Any]:
    instance = str(details.get("airflow_instance") or "") or _instance_of(details)
    return {
        **_airflow_cli({"airflow_instance": instance}, site),
        "blocking_task_ids": [t["task_id"] for t in details.get("blocking") or []],
    }


def _instance_of(details: Mapping[str, Any]) -> str:
    """An SLA miss names its instance by its web server's address (airflow-analytics.…)."""
    match = re.match(r"https?://(airflow-[\w-]+)\.", str(details.get("base_url") or ""))
    return match.group(1) if match else ""


def _partition_drift(details: Mapping[str, Any], site: Site) -> dict[str, Any]:
    base = str(details.get("base_path") or "")
    strays = [str(p) for p in details.get("directories_without_partition") or []]
    return {
        "has_stray_directories": bool(strays),
        "has_missing_directories": bool(details.get("partitions_without_directory")),
        "stray_paths": [posixpath.join(base, p) for p in strays[:20]] if base else [],
    }


def _systemd_timer(details: Mapping[str, Any], site: Site) -> dict[str, Any]:
    """Where the unit ran: the host its mail came from, else where the site runs such units;
    else unknown, and its steps say where to look."""
    unit = str(details.get("unit") or "")
    host = str(details.get("host") or "") or site.unit_host(unit)
    if host:
        return {"host": host}
    look = f"the host the timer {unit or details.get('timer') or ''} is defined on (puppet)"
    return {"unknown": [unknown("which host ran it", look)]}


DERIVED = {
    "airflow_task_failed": _airflow_task,
    "airflow_sla_miss": _airflow_sla,
    "airflow_dag_run_failed": _airflow_run,
    "refine_failure": _refine,
    "systemd_timer_failed": _systemd_timer,
    "canary_failure": _systemd_timer,
    "refine_monitor": _refine_monitor,
    "data_loss": _data_loss,
    "alertmanager": _alertmanager,
    "unexpected_pageview_values": _unexpected_pageview_values,
    "anomaly_report": _anomaly,
    "mediawiki_history_available": _mw_history,
    "mediawiki_history_late": _mw_history,
    "mediawiki_history_checker_error": _mw_history,
    "partition_drift": _partition_drift,
}
