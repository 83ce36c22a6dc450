"""A storm as the team's Alertmanager sends it: a bad morning on the cluster, well over a
hundred alerts of a dozen rules (heap alerts from forty NodeManagers, NodeManagers down,
failed units, Kafka brokers, EventGate streams, Druid, Airflow), as webhook payloads (version
4), one notification per rule the way ``group_by: [alertname]`` sends them. For the Inbox's
tests, the browser tests and the README's picture of a storm."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

RULES: list[tuple[str, str, list[dict[str, str]], str]] = [
    # (alertname, severity, the labels of each alert, summary)
    (
        "HadoopNodeManagerHeapUsage",
        "warning",
        [
            {"instance": f"an-worker{n}:8141", "cluster": "analytics", "job": "nodemanager"}
            for n in range(1078, 1138)
        ],
        "NodeManager heap above 90% for 10 minutes",
    ),
    (
        "YarnNodeManagerDown",
        "critical",
        [{"instance": f"an-worker{n}:8141", "cluster": "analytics"} for n in range(1140, 1152)],
        "NodeManager is not running",
    ),
    (
        "SystemdUnitFailed",
        "warning",
        [
            {"instance": "an-launcher1002:9100", "name": unit}
            for unit in (
                "refinery-sqoop-whole-mediawiki.service",
                "refinery-drop-webrequest-raw-partitions.service",
                "reportupdater-interlanguage.service",
                "reportupdater-browser.service",
                "produce_canary_events.service",
                "hdfs-cleaner-tmp.service",
                "refinery-import-page-history-dumps.service",
                "camus-eventlogging.service",
            )
        ],
        "a systemd unit failed",
    ),
    (
        "KafkaUnderReplicatedPartitions",
        "critical",
        [
            {"instance": f"kafka-jumbo{n}:7800", "cluster": "jumbo-eqiad", "job": "kafka"}
            for n in range(1007, 1016)
        ],
        "under-replicated partitions",
    ),
    (
        "EventgateValidationErrors",
        "warning",
        [
            {"stream": stream, "service": "eventgate-analytics-external"}
            for stream in (
                "mediawiki.client.session_tick",
                "mediawiki.edit_attempt",
                "ios.edit_history_compare",
                "android.user_contribution_screen",
                "mediawiki.searchpreview",
                "mediawiki.web_ui_scroll",
                "mediawiki.visual_editor_feature_use",
                "inuka.wiki_highlights_experiment",
                "mediawiki.talk_page_edit",
                "mediawiki.reading_depth",
                "mediawiki.structured_task.article.link_suggestion_interaction",
                "wd_propertysuggester.client_side_property_request",
            )
        ],
        "validation errors for a stream",
    ),
    (
        "DruidMiddleManagerJvmGcTime",
        "warning",
        [
            {"instance": f"an-druid{n}:8091", "cluster": "analytics", "job": "druid-middlemanager"}
            for n in range(1001, 1006)
        ],
        "Druid MiddleManager spends too long in GC",
    ),
    (
        "AirflowSchedulerHeartbeatMissing",
        "critical",
        [
            {"instance": f"airflow-{name}", "namespace": "airflow"}
            for name in ("analytics", "search")
        ],
        "the scheduler's heartbeat is missing",
    ),
    (
        "HdfsCorruptBlocks",
        "critical",
        [{"cluster": "analytics", "instance": "an-master1003:10080"}],
        "corrupt blocks on HDFS",
    ),
    (
        "HdfsMissingBlocks",
        "critical",
        [{"cluster": "analytics", "instance": "an-master1003:10080"}],
        "missing blocks on HDFS",
    ),
    (
        "HiveServerHeapUsage",
        "warning",
        [{"instance": f"an-coord{n}:10100", "cluster": "analytics"} for n in (1001, 1002)],
        "HiveServer2 heap above 90%",
    ),
    (
        "FlinkOperatorNotRunning",
        "critical",
        [{"namespace": "flink-operator", "cluster": "dse-k8s-eqiad"}],
        "the Flink operator is not running",
    ),
    (
        "PrometheusRuleEvaluationFailures",
        "warning",
        [{"instance": f"prometheus{n}:9900", "rule_group": "analytics"} for n in (1005, 1006)],
        "rule evaluations fail",
    ),
]


def storm_payloads(now: datetime, url: str = "http://alertmanager.example.org:9093") -> list[bytes]:
    """One webhook per rule; the first alerts started 40 minutes before ``now``."""
    payloads = []
    for number, (name, severity, each, summary) in enumerate(RULES):
        alerts: list[dict[str, Any]] = []
        for index, labels in enumerate(each):
            started = now - timedelta(minutes=40 - number * 2, seconds=index * 7)
            alerts.append(
                {
                    "status": "firing",
                    "labels": {
                        "alertname": name,
                        "severity": severity,
                        "team": "data-engineering",
                        "prometheus": "analytics",
                        **labels,
                    },
                    "annotations": {
                        "summary": summary,
                        "runbook": "https://wikitech.wikimedia.org/wiki/Data_Platform/Alerts",
                    },
                    "startsAt": started.isoformat(),
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": f"https://prometheus.example.org/graph?g0.expr={name}",
                    "fingerprint": f"{number:02x}{index:04x}storm",
                }
            )
        payloads.append(
            json.dumps(
                {
                    "version": "4",
                    "groupKey": '{}:{alertname="' + name + '"}',
                    "status": "firing",
                    "receiver": "data-engineering",
                    "groupLabels": {"alertname": name},
                    "commonLabels": {"alertname": name, "team": "data-engineering"},
                    "externalURL": url,
                    "alerts": alerts,
                }
            ).encode()
        )
    return payloads


def storm_size() -> int:
    return sum(len(each) for _, _, each, _ in RULES)
