"""A realistic week of alerts for the demo: every source kind, spread over the last days,
some acknowledged and resolved by the person on duty."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy.orm import Session

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import ALERTMANAGER, EMAIL, LOG
from opsweek.alerts.model import RawInput
from opsweek.db.models import Alert


def _mail(sender: str, subject: str, body: str, at: datetime, html: bool = False) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "data-engineering-alerts@lists.example.org"
    message["Subject"] = subject
    message["Date"] = format_datetime(at)
    message.set_content(body, subtype="html" if html else "plain")
    return message.as_bytes()


def _refine(job: str, table: str, at: datetime) -> bytes:
    hour = at.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    spec = f'datacenter="eqiad",year={hour.year},month={hour.month},day={hour.day},hour={hour.hour}'
    path = (
        f"/wmf/data/event/{table}/datacenter=eqiad/year={hour.year}/month={hour.month}/"
        f"day={hour.day}/hour={hour.hour}"
    )
    body = f"""Refine failures for path /wmf/data/raw/event -> database event (/wmf/data/event)

The following 1 of 4 dataset partitions for output table `event`.`{table}` failed refinement:
\torg.wikimedia.analytics.refinery.job.refine.RefineTargetException: Failed refinement of hdfs://analytics-hadoop/wmf/data/raw/event/eqiad.{table}/hour={hour.hour} -> `event`.`{table}` {spec} at {path}. Original exception: java.lang.IllegalArgumentException: Cannot cast field meta.dt

applicationId: application_1700000000000_{hour.hour * 100 + hour.day}

To rerun, use the following options:

sudo -u analytics kerberos-run-command analytics \\
{job} \\
--ignore_failure_flag=true \\
--table_include_regex='{table}' \\
--since='{hour:%Y-%m-%dT%H}:00:00.000Z' \\
--until='{hour + timedelta(hours=1):%Y-%m-%dT%H}:00:00.000Z'
"""  # noqa: E501
    return _mail("Refinery <noreply@example.org>", f"Refine failures for job {job}", body, at)


def _airflow(dag: str, task: str, at: datetime, state: str = "failed") -> bytes:
    run = (at - timedelta(days=1)).strftime("scheduled__%Y-%m-%dT00:00:00+00:00")
    body = (
        f"Try 3 out of 3<br>Exception:<br>Bash command failed. The command returned a "
        f'non-zero exit code 1.<br>Log: <a href="https://airflow-analytics.example.org/log?'
        f'task_id={task}&amp;dag_id={dag}&amp;map_index=-1">Link</a><br>Host: '
        f"an-airflow1006.eqiad.wmnet<br>"
    )
    return _mail(
        "airflow-analytics: <noreply@example.org>",
        f"Airflow alert: <TaskInstance: {dag}.{task} {run} [{state}]>",
        body,
        at,
        True,
    )


def _timer(state: str, unit: str, at: datetime, output: str) -> bytes:
    body = (
        f"Systemd timer ran the following command:\n\n    /usr/local/bin/{unit}\n\n"
        f"Its return value was {1 if state == 'FAIL' else 0} and emitted the following "
        f"output:\n\n{output}\n"
    )
    return _mail("SYSTEMDTIMER <noreply@example.org>", f"{state}: {unit}.service", body, at)


def _webhook(status: str, alerts: list[tuple[str, dict[str, str], str]], at: datetime) -> bytes:
    return json.dumps(
        {
            "version": "4",
            "groupKey": '{}:{team="data-engineering"}',
            "status": status,
            "receiver": "opsweek",
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example.org",
            "truncatedAlerts": 0,
            "alerts": [
                {
                    "status": status,
                    "labels": {"alertname": name, **labels},
                    "annotations": {"summary": summary},
                    "startsAt": at.isoformat(),
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "https://prometheus.example.org/graph?g0.expr=up",
                    "fingerprint": name[:16],
                }
                for name, labels, summary in alerts
            ],
        }
    ).encode()


def _canary(at: datetime, ok: bool) -> bytes:
    stamp = at.strftime("%b %d %H:%M:%S")
    if ok:
        return (
            f"{stamp} an-launcher1002 produce_canary_events[20001]: HttpResult(success) "
            "status: 201 message: Created. body:"
        ).encode()
    body = {
        "invalid": [
            {
                "status": "invalid",
                "event": {
                    "meta": {"stream": "eventlogging_HomepageVisit", "domain": "canary"},
                    "$schema": "/analytics/legacy/homepagevisit/1.0.0",
                },
                "context": {
                    "errors": [
                        {
                            "keyword": "required",
                            "dataPath": ".event",
                            "schemaPath": "#/properties/event/required",
                            "params": {"missingProperty": "start_tutorial_state"},
                            "message": "should have required property 'start_tutorial_state'",
                        }
                    ],
                    "errorsText": "'.event' should have required property 'start_tutorial_state'",
                },
            }
        ],
        "error": [],
    }
    return (
        f"{stamp} an-launcher1002 produce_canary_events[20000]: HttpResult(failure) status: "
        f"207 message: Multi-Status. body: {json.dumps(body)}"
    ).encode()


def demo_inputs(now: datetime) -> list[RawInput]:
    day = timedelta(days=1)
    hour = timedelta(hours=1)
    mails = [
        (now - 6 * day, _refine("refine_event", "mediawiki_page_change", now - 6 * day)),
        (now - 5 * day, _airflow("edit_hourly", "process_edit_hourly", now - 5 * day)),
        (
            now - 5 * day + 2 * hour,
            _timer(
                "FAIL",
                "refinery-drop-webrequest-refined-partitions",
                now - 5 * day + 2 * hour,
                "ERROR Table wmf.webrequest has partitions outside of the allowed drop interval.",
            ),
        ),
        (
            now - 4 * day,
            _mail(
                "Data Loss Checker <noreply@example.org>",
                f"Data Loss Warning - Workflow webrequest-load-check_sequence_"
                f"statistics-wf-upload-{now - 4 * day:%Y-%m-%d-%H}",
                "cp4037.ulsfo.wmnet\n0 bad-requests\t0.0% bad-requests to total\t"
                "9211 lost requests\t0.74% lost request to valid requests\n",
                now - 4 * day,
            ),
        ),
        (
            now - 4 * day + 3 * hour,
            _timer(
                "PASS",
                "refinery-drop-webrequest-refined-partitions",
                now - 4 * day + 3 * hour,
                "Dropped 24 partitions.",
            ),
        ),
        (
            now - 3 * day,
            _mail(
                "airflow-analytics: <noreply@example.org>",
                f"Anomaly report anomaly_detection_traffic_distribution_daily "
                f"{now - 3 * day:%Y-%m-%d}",
                "pageview_entropy_by_city_IR,-23.4\npageview_entropy_by_city_TR,11.2\n",
                now - 3 * day,
            ),
        ),
        (
            now - 3 * day + hour,
            _mail(
                "airflow-analytics: <noreply@example.org>",
                f"Unexpected found in pageview hourly "
                f"pageview_allowlist_check {now - 3 * day:%Y-%m-%d}",
                "project\tazy.wikipedia\t1532\nproject\ttly.wikipedia\t87\n",
                now - 3 * day + hour,
            ),
        ),
        (
            now - 2 * day,
            _mail(
                "airflow-analytics: <noreply@example.org>",
                f"[Data-engineering-alerts] Mediawiki_history for "
                f"{(now.replace(day=1) - day):%Y-%m} now available",
                "The snapshot is available.",
                now - 2 * day,
            ),
        ),
        (
            now - 2 * day + hour,
            _mail(
                "airflow-analytics: <noreply@example.org>",
                "[airflow] SLA miss on DAG=webrequest_actor_metrics_hourly",
                "Here's a list of tasks that missed their SLAs:<pre><code>"
                f"compute_actor_metrics on {now - 2 * day:%Y-%m-%dT%H}:00:00"
                "+00:00\n</code></pre>Blocking tasks:<pre><code>"
                "</code></pre>Airflow Webserver URL: "
                "https://airflow-analytics.example.org",
                now - 2 * day + hour,
                True,
            ),
        ),
        (
            now - day,
            _mail(
                "Refinery <noreply@example.org>",
                "RefineMonitor problem report for job "
                "monitor_refine_sanitize_eventlogging_analytics",
                "Targets with failures:\n\t`event_sanitized`.`navigationtiming` "
                "/wmf/data/event_sanitized/navigationtiming/hour=4\n",
                now - day,
            ),
        ),
        (
            now - 5 * hour,
            _refine("refine_eventlogging_analytics", "contenttranslation", now - 5 * hour),
        ),
        (
            now - 2 * hour,
            _airflow("mediawiki_history_reduced", "check_snapshot", now - 2 * hour, "up_for_retry"),
        ),
        (now - 2 * day, b"From: someone@example.org\nSubject: <b>Re: lunch?</b>\n\nhi"),
    ]
    inputs = [RawInput(data, EMAIL, at, "demo") for at, data in mails]
    inputs += [
        RawInput(
            _webhook(
                "firing",
                [
                    (
                        "HdfsCorruptBlocks",
                        {"severity": "critical", "cluster": "analytics"},
                        "HDFS corrupt blocks on analytics-hadoop",
                    ),
                    (
                        "SystemdUnitFailed",
                        {
                            "severity": "warning",
                            "name": "refinery-sqoop-whole-mediawiki.service",
                            "instance": "an-launcher1002:9100",
                        },
                        "refinery-sqoop-whole-mediawiki.service failed",
                    ),
                ],
                now - 36 * hour,
            ),
            ALERTMANAGER,
            now - 36 * hour,
            "demo",
        ),
        RawInput(
            _webhook(
                "resolved",
                [
                    (
                        "HdfsCorruptBlocks",
                        {"severity": "critical", "cluster": "analytics"},
                        "HDFS corrupt blocks on analytics-hadoop",
                    )
                ],
                now - 30 * hour,
            ),
            ALERTMANAGER,
            now - 30 * hour,
            "demo",
        ),
        RawInput(
            _webhook(
                "firing",
                [
                    (
                        "EventgateValidationErrors",
                        {"severity": "warning", "stream": "eventlogging_WMDEBannerSizeIssue"},
                        "validation errors for eventlogging_WMDEBannerSizeIssue",
                    )
                ],
                now - 3 * hour,
            ),
            ALERTMANAGER,
            now - 3 * hour,
            "demo",
        ),
        RawInput(_canary(now - 26 * hour, ok=False), LOG, now - 26 * hour, "demo"),
        RawInput(_canary(now - 25 * hour - hour / 2, ok=True), LOG, now - 25 * hour, "demo"),
    ]
    return inputs


def seed_alerts(changes: AlertChanges, session: Session, now: datetime, on_duty: str | None) -> int:
    """The demo's alerts, stored in ``session`` (a writing session, `Store.writing`)."""
    counts = changes.ingest(demo_inputs(now), now, session)
    person = on_duty or "demo"
    by_kind = {a.kind: a for a in session.query(Alert).order_by(Alert.id)}
    steps = [
        (
            "refine_failure",
            "resolve",
            "reran the failed hour with the e-mail's flags; yarn logs show 'Finished refinement'",
        ),
        ("airflow_task_failed", "resolve", "cleared the task; it succeeded on retry"),
        ("data_loss", "resolve", "false positive: cp4037 was depooled that hour"),
        ("anomaly_report", "ack", ""),
        ("alertmanager", "ack", ""),
    ]
    for kind, action, note in steps:
        alert = by_kind.get(kind)
        if alert is None or alert.status == "resolved":
            continue
        # acted on within the hour, as the runbook asks ("acknowledged promptly")
        at = min(now, alert.first_seen + timedelta(minutes=12 + len(note) % 40))
        if action == "ack":
            changes.ack(alert.id, person, at, session)
        else:
            changes.resolve(alert.id, person, note, at, session)
    return counts.received
