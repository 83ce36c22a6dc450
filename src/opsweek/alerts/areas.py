"""The ops week's two responsibilities (the runbook's "primary responsibilities"): the data
pipelines, and the pipelines making the public Dumps. An alert is a Dumps one when opsweek's
dumps check made it, or when it comes from an Airflow instance configured with
``area = "dumps"`` (the newer dumps pipelines run as Airflow DAGs). Pure."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

PIPELINES, DUMPS = "pipelines", "dumps"
AREAS = (PIPELINES, DUMPS)
TITLES = {PIPELINES: "Data pipelines", DUMPS: "Dumps"}


def area_of(kind: str, details: Mapping[str, Any], dumps_instances: Collection[str]) -> str:
    """``dumps`` or ``pipelines``; ``dumps_instances`` are Airflow instance names."""
    if kind.startswith("dumps_"):
        return DUMPS
    instance = str(details.get("airflow_instance") or "")
    if instance and instance.removeprefix("airflow-") in dumps_instances:
        return DUMPS
    return PIPELINES
