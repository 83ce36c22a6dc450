"""Prometheus Alertmanager: webhook payloads (version 4) and its notification e-mails
(``[FIRING:1] <alertname> <label values>``).

Alerts are routed to their runbook steps twice: by their exact name to a topic (the names the
team's Prometheus rules use, `TOPICS`), and by their family, from the name and the labels (a
heap alert of any Java daemon, any HDFS, YARN, Airflow, Kafka, EventGate or Flink alert,
`family_of`). An alert of no known family still gets the generic steps, which link what the
alert carries and show its labels, and never name a unit or a host it does not give."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import (
    FIRING,
    RESOLVED,
    ParsedAlert,
    ParseError,
    clean_text,
    digest,
    expect,
)

KIND = "alertmanager"
SUBJECT = re.compile(
    r"\[(?P<status>FIRING|RESOLVED)(?::(?P<count>\d+))?\]\s+(?P<name>\S+)\s*"
    r"(?P<rest>.*)$"
)
MAIL_LABEL = re.compile(r"^\s*-\s*(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*?)\s*\Z")


@dataclass(frozen=True)
class JavaDaemon:
    unit: str  # the systemd unit that runs it
    user: str  # the user it runs as (jstack must run as that user)


# the team's Java daemons, by a word of the alert's name or labels: before restarting one,
# take a thread dump as the user it runs as
JAVA_DAEMONS = (
    ("namenode", JavaDaemon("hadoop-hdfs-namenode", "hdfs")),
    ("datanode", JavaDaemon("hadoop-hdfs-datanode", "hdfs")),
    ("journalnode", JavaDaemon("hadoop-hdfs-journalnode", "hdfs")),
    ("resourcemanager", JavaDaemon("hadoop-yarn-resourcemanager", "yarn")),
    ("nodemanager", JavaDaemon("hadoop-yarn-nodemanager", "yarn")),
    ("historyserver", JavaDaemon("hadoop-mapreduce-historyserver", "mapred")),
    ("metastore", JavaDaemon("hive-metastore", "hive")),
    ("hiveserver", JavaDaemon("hive-server2", "hive")),
    ("presto", JavaDaemon("presto-server", "presto")),
    ("zookeeper", JavaDaemon("zookeeper", "zookeeper")),
    ("kafka", JavaDaemon("kafka", "kafka")),
    *(
        (f"druid{part}", JavaDaemon(f"druid-{part}", "druid"))
        for part in ("broker", "coordinator", "historical", "overlord", "middlemanager")
    ),
)
JAVA_ALERT = re.compile(r"heap|jvm|garbage|\bgc|gc(?:time|pause|count)|oldgen|metaspace", re.I)
TOPICS = {  # exact alert name -> runbook topic (runbooks.toml [alertmanager.<topic>])
    "HdfsCorruptBlocks": "hdfs_blocks",
    "HdfsMissingBlocks": "hdfs_blocks",
    "SystemdUnitFailed": "systemd_unit",
    "SystemdUnitCrashLoop": "systemd_unit",
    "EventgateValidationErrors": "eventgate_validation",
    "FlinkOperatorNotRunning": "flink_operator",
    "MediawikiPageContentChangeEnrichJobManagerNotRunning": "enrichment",
    "MediawikiPageContentChangeEnrichTaskManagerNotRunning": "enrichment",
    "MediawikiPageContentChangeEnrichHighKafkaConsumerLag": "enrichment",
    "MediawikiPageContentChangeEnrichAvailability": "enrichment",
}
# families (runbooks.toml [alertmanager.<family>]), by the alert's name first, then labels
FAMILIES = (
    ("java_daemon", lambda name, _labels: bool(JAVA_ALERT.search(name))),
    ("hdfs", lambda name, _labels: name.startswith("hdfs") or "namenode" in name),
    ("yarn", lambda name, _labels: name.startswith("yarn") or "resourcemanager" in name),
    ("airflow", lambda name, labels: "airflow" in name or "airflow" in labels),
    ("kafka", lambda name, _labels: "kafka" in name and "enrich" not in name),
    ("eventgate", lambda name, labels: "eventgate" in name or "eventgate" in labels),
    ("flink", lambda name, _labels: "flink" in name or "enrich" in name),
    ("systemd", lambda name, _labels: name.startswith("systemd")),
)
SEVERITY = {
    "critical": "critical",
    "page": "critical",
    "error": "error",
    "warning": "warning",
    "warn": "warning",
    "info": "info",
    "task": "warning",
}
UNIT = re.compile(r"^[\w@.:-]+\.(?:service|timer)\Z")


def topic(alertname: str) -> str:
    return TOPICS.get(alertname, "")


def family_of(alertname: str, labels: dict[str, str]) -> str:
    """What an alert is about (HDFS, YARN, Airflow, Kafka, EventGate, Flink, a Java
    daemon, systemd), from its name, else from its labels' values; "" when nothing says."""
    name = alertname.lower()
    values = " ".join(
        labels.get(key, "") for key in ("job", "service", "namespace", "app", "component")
    ).lower()
    return next((family for family, test in FAMILIES if test(name, values)), "")


def java_daemon(alertname: str, labels: dict[str, str]) -> JavaDaemon | None:
    """The Java daemon an alert names, from its name or its labels; None when neither says."""
    said = " ".join(
        [alertname, *(labels.get(k, "") for k in ("job", "service", "daemon", "instance"))]
    )
    words = re.sub(r"[^a-z]", "", said.lower())
    return next((daemon for key, daemon in JAVA_DAEMONS if key in words), None)


def parse_webhook(payload: Any) -> list[ParsedAlert]:
    """The alerts of a webhook. An entry that cannot be read is left out when others can be;
    a payload with none readable is refused (and kept raw by the caller)."""
    if not isinstance(payload, dict):
        raise ParseError("webhook body is not a JSON object")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        version = payload.get("version")
        raise ParseError(f"webhook has no alerts (Alertmanager webhook version {version!r})")
    group = digest(KIND, str(payload.get("groupKey", "")))
    sender = str(payload.get("externalURL") or "")  # which Alertmanager sent it
    found = [_alert(entry, group, sender) for entry in alerts if isinstance(entry, dict)]
    if not found:
        raise ParseError("no alert in the webhook is a JSON object")
    return found


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _alert(entry: dict[str, Any], group: str, sender: str = "") -> ParsedAlert:
    labels = _strings(entry.get("labels"))
    annotations = _strings(entry.get("annotations"))
    alertname = labels.get("alertname", "")
    source_fingerprint = str(entry.get("fingerprint") or "")
    summary = annotations.get("summary") or annotations.get("description") or ""
    where = labels.get("name") or labels.get("instance") or labels.get("job", "")
    details = _details(alertname, labels, annotations)
    details.update(
        generator_url=str(entry.get("generatorURL") or ""),
        source_fingerprint=source_fingerprint,
        starts_at=str(entry.get("startsAt") or ""),
        ends_at=str(entry.get("endsAt") or ""),
        external_url=sender,
    )
    title = " ".join(part for part in (alertname, where, summary and f"- {summary}") if part)
    return ParsedAlert(
        kind=KIND,
        source="alertmanager",
        title=clean_text(title or "alert without a name"),
        fingerprint=digest(KIND, source_fingerprint or sorted(labels.items())),
        severity=SEVERITY.get(labels.get("severity", "").lower(), "warning"),
        status=RESOLVED if entry.get("status") == "resolved" else FIRING,
        details=details,
        group_key=group,
    )


def _details(alertname: str, labels: dict[str, str], annotations: dict[str, str]) -> dict:
    alert_topic = topic(alertname)
    unit = labels.get("name", "")
    family = family_of(alertname, labels)
    return {
        "alertname": alertname,
        "topic": alert_topic,
        "family": family,
        "labels": labels,
        "annotations": annotations,
        "unit": unit if alert_topic == "systemd_unit" and UNIT.match(unit) else "",
        "instance": labels.get("instance", ""),
        "stream": labels.get("stream", ""),
    }


def matches(mail: MailMessage) -> bool:
    return SUBJECT.search(mail.raw_subject) is not None


def parse(mail: MailMessage) -> list[ParsedAlert]:
    """A notification e-mail: the labels listed in its body when the template lists them
    (``- name = value``), else only what the subject's label values say."""
    subject = expect(
        SUBJECT.search(mail.raw_subject), "subject is not an Alertmanager notification"
    )
    alertname, rest = subject["name"], subject["rest"].strip()
    label_values = rest.strip("()").replace("(", " ").replace(")", " ").split()
    labels, annotations = _mail_labels(mail.text)
    labels.setdefault("alertname", alertname)
    details = _details(alertname, labels, annotations)
    if not details["stream"]:
        details["stream"] = next(
            (v for v in label_values if v.startswith(("eventlogging_", "mediawiki."))), ""
        )
    if not details["unit"] and details["topic"] == "systemd_unit":
        details["unit"] = next((v for v in label_values if UNIT.match(v)), "")
    details.update(
        label_values=label_values,
        firing_count=int(subject["count"]) if subject["count"] else None,
        generator_url=_first_url(mail.text, "graph"),
        source_fingerprint="",
    )
    return [
        ParsedAlert(
            kind=KIND,
            source="alertmanager",
            title=clean_text(f"{alertname} {rest}"),
            fingerprint=digest(KIND, alertname, *label_values),
            severity=next((SEVERITY[v] for v in label_values if v in SEVERITY), "warning"),
            status=RESOLVED if subject["status"] == "RESOLVED" else FIRING,
            details=details,
            group_key=digest(KIND, alertname, rest),
            occurred_at=mail.date,
        )
    ]


def _mail_labels(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """``Labels:`` and ``Annotations:`` blocks of Alertmanager's default mail template, for
    the first alert of the mail."""
    found: dict[str, dict[str, str]] = {"labels": {}, "annotations": {}}
    current = None
    for line in text.split("\n"):
        heading = line.strip().rstrip(":").lower()
        if heading in found:
            current = heading if not found[heading] else None
            continue
        match = MAIL_LABEL.match(line)
        if current and match:
            found[current].setdefault(match["key"], match["value"])
        elif line.strip():
            current = None
    return found["labels"], found["annotations"]


def _first_url(text: str, containing: str) -> str:
    match = re.search(rf"https?://\S*{containing}\S*", text)
    return match.group(0).rstrip(").,") if match else ""
