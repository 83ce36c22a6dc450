"""One parser per alert source kind. E-mail parsers share one interface:

    KIND: str
    matches(mail: MailMessage) -> bool
    parse(mail: MailMessage) -> list[ParsedAlert]   # may raise ParseError

The order of EMAIL_PARSERS is the order in which they are tried.
"""

from __future__ import annotations

from types import ModuleType

from opsweek.alerts.model import UNPARSED
from opsweek.alerts.sources import (
    airflow_api,
    airflow_sla_miss,
    airflow_task_failed,
    alertmanager,
    anomaly_report,
    canary_failure,
    data_loss,
    mediawiki_history_available,
    mediawiki_history_checker,
    opsweek_check,
    refine_failure,
    refine_monitor,
    systemd_timer_failed,
    unexpected_pageview_values,
)

EMAIL_PARSERS: tuple[ModuleType, ...] = (
    airflow_task_failed,
    airflow_sla_miss,
    refine_failure,
    refine_monitor,
    systemd_timer_failed,
    mediawiki_history_checker,
    data_loss,
    anomaly_report,
    unexpected_pageview_values,
    mediawiki_history_available,
    alertmanager,
)

# every kind opsweek knows: what the parsers give and what its own checks emit
KNOWN_KINDS: tuple[str, ...] = tuple(
    sorted(
        {m.KIND for m in EMAIL_PARSERS}
        | {canary_failure.KIND, airflow_api.RUN_KIND, UNPARSED}
        | set(opsweek_check.CHECK_KINDS)
    )
)
