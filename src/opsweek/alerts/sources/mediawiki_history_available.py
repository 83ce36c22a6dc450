"""``Mediawiki_history for YYYY-MM now available``: opens the monthly redeploy duty. Read by
its meaning, not one literal form: ``MediaWiki history``, ``Mediawiki_history_reduced``,
``… snapshot for YYYY-MM is now available``."""

from __future__ import annotations

import re

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import ParsedAlert, digest, expect

KIND = "mediawiki_history_available"
SUBJECT = re.compile(
    r"media\s*wiki[\s_]*history(?:[\s_]*reduced)?(?:\s+snapshot)?\s+for\s+"
    r"(?P<snapshot>\d{4}-\d\d)\s+(?:is\s+)?(?:now\s+)?available",
    re.I,
)


def matches(mail: MailMessage) -> bool:
    return SUBJECT.search(mail.subject) is not None


def parse(mail: MailMessage) -> list[ParsedAlert]:
    subject = expect(
        SUBJECT.search(mail.subject), "subject does not announce a MediaWiki history snapshot"
    )
    snapshot = subject["snapshot"]
    return [
        ParsedAlert(
            kind=KIND,
            source="airflow",
            title=f"MediaWiki history snapshot {snapshot} available: redeploy AQS services",
            fingerprint=digest(KIND, snapshot),
            severity="info",
            details={
                "snapshot": snapshot,
                "duty": "mw-history-deploy",
                "druid_datasource": f"mediawiki_history_reduced_{snapshot.replace('-', '_')}",
                "services": ["edit-analytics", "editor-analytics"],
            },
            group_key=digest(KIND, snapshot),
            occurred_at=mail.date,
        )
    ]
