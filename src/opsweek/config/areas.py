"""The settings of each area as a small typed dataclass, the only form in which the code below
the composition root (`opsweek.app`) sees them: a field is named after its setting
(`WebSettings.public_read` is `web.public_read`), lists written comma-separated are tuples, and
defaults that depend on other settings are filled in."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class DatabaseSettings:
    url: str
    sqlite_synchronous: str


@dataclass(frozen=True)
class RotationSettings:
    timezone: str
    handoff_weekday: str
    handoff_time: str
    working_days: str
    max_away_days: int
    published_weeks: int
    lookback_weeks: int


@dataclass(frozen=True)
class AlertSettings:
    flap_threshold: int
    flap_window_minutes: int


@dataclass(frozen=True)
class IntakeSettings:
    max_body_bytes: int
    smtp_listen: str
    imap_host: str
    imap_port: int
    imap_ssl: bool
    imap_user: str
    imap_password: str
    imap_folder: str
    imap_interval: int


@dataclass(frozen=True)
class WebSettings:
    host: str
    port: int
    base_url: str
    public_read: bool
    workers: int
    outside_refresh_minutes: int
    page_cache_seconds: int
    trusted_header: str
    trusted_proxies: tuple[str, ...]
    secret_key: str


@dataclass(frozen=True)
class SalSettings:
    project: str
    projects: tuple[str, ...]
    relay_users: tuple[str, ...]
    related_window_hours: int


@dataclass(frozen=True)
class IrcSettings:
    server: str
    port: int
    tls: bool
    nick: str
    password: str
    sasl: bool
    channels: tuple[str, ...]
    relay_nicks: tuple[str, ...]
    allow_ack: bool


@dataclass(frozen=True)
class DutySettings:
    reminder_hours: int


@dataclass(frozen=True)
class HandoffSettings:
    noise_weeks: int


@dataclass(frozen=True)
class TrackerSettings:
    kind: str
    url: str
    token: str
    column_phid: str
    timeout: int


@dataclass(frozen=True)
class ChatSettings:
    kind: str
    base_url: str
    token: str
    collab_channel: str
    team_channel: str
    answer_hours: int
    timeout: int


@dataclass(frozen=True)
class MailSettings:
    smtp_host: str
    smtp_port: int
    smtp_starttls: bool
    smtp_user: str
    smtp_password: str
    sender: str
    alerts_list: str


@dataclass(frozen=True)
class FilesSettings:
    root: str


@dataclass(frozen=True)
class HiveSettings:
    warehouse_dir: str
    metastore_dir: Path
    metastore_uri: str


@dataclass(frozen=True)
class OffboardSettings:
    archive_dir: str
    archive_owner: str
    summarize_above: int
    host_timeout: int
    cumin_hosts: str


@dataclass(frozen=True)
class WarehouseSettings:
    backend: str


@dataclass(frozen=True)
class CheckSettings:
    unexpected_values_table: str
    allowlist: str
    grouped_wikis: str
    replica_url: str
    mw_history_dir: str
    mw_history_late_day: int
    interval_minutes: int


def build(cls: type[T], prefix: str, values: dict[str, Any], **given: Any) -> T:
    """``cls`` from the settings named ``<prefix>.<field>``; ``given`` fills the fields whose
    value is derived. A tuple field splits its comma-separated setting."""
    kwargs: dict[str, Any] = {}
    for field in fields(cls):  # type: ignore[arg-type]
        if field.name in given:
            kwargs[field.name] = given[field.name]
            continue
        value = values[f"{prefix}.{field.name}"]
        if str(field.type).startswith("tuple"):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        kwargs[field.name] = value
    return cls(**kwargs)


AREAS: dict[str, type] = {
    "database": DatabaseSettings,
    "rotation": RotationSettings,
    "alerts": AlertSettings,
    "intake": IntakeSettings,
    "web": WebSettings,
    "sal": SalSettings,
    "irc": IrcSettings,
    "duties": DutySettings,
    "handoff": HandoffSettings,
    "tracker": TrackerSettings,
    "chat": ChatSettings,
    "mail": MailSettings,
    "files": FilesSettings,
    "hive": HiveSettings,
    "offboard": OffboardSettings,
    "warehouse": WarehouseSettings,
    "checks": CheckSettings,
}
