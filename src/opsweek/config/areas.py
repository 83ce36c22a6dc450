"""The settings of each area as a small typed record (an immutable NamedTuple, cheap to define:
every command loads these), the only form in which the code below the composition root
(`opsweek.app`) sees them: a field is named after its setting (`WebSettings.public_read` is
`web.public_read`), lists written comma-separated are tuples, and defaults that depend on
other settings are filled in."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")


class DatabaseSettings(NamedTuple):
    url: str
    sqlite_synchronous: str


class RotationSettings(NamedTuple):
    timezone: str
    handoff_weekday: str
    handoff_time: str
    working_days: str
    max_away_days: int
    published_weeks: int
    lookback_weeks: int


class AlertSettings(NamedTuple):
    flap_threshold: int
    flap_window_minutes: int


class IntakeSettings(NamedTuple):
    max_body_bytes: int
    smtp_listen: str
    imap_host: str
    imap_port: int
    imap_ssl: bool
    imap_user: str
    imap_password: str
    imap_folder: str
    imap_interval: int


class WebSettings(NamedTuple):
    host: str
    port: int
    base_url: str
    public_read: bool
    workers: int
    outside_refresh_minutes: int
    page_cache_seconds: int
    max_streams: int
    max_streams_per_client: int
    trusted_header: str
    trusted_proxies: tuple[str, ...]
    secret_key: str


class SalSettings(NamedTuple):
    project: str
    projects: tuple[str, ...]
    relay_users: tuple[str, ...]
    related_window_hours: int
    publish: tuple[str, ...]
    wiki_api: str
    wiki_page: str
    wiki_user: str
    wiki_password: str
    sync_minutes: int


class IrcSettings(NamedTuple):
    server: str
    port: int
    tls: bool
    nick: str
    password: str
    sasl: bool
    channels: tuple[str, ...]
    relay_nicks: tuple[str, ...]
    allow_ack: bool
    keep_days: int
    watch_words: tuple[str, ...]
    mentions_hours: int


class DutySettings(NamedTuple):
    reminder_hours: int


class HandoffSettings(NamedTuple):
    noise_weeks: int


class TrackerSettings(NamedTuple):
    kind: str
    url: str
    token: str
    column_phid: str
    timeout: int


class ChatSettings(NamedTuple):
    kind: str
    base_url: str
    token: str
    collab_channel: str
    team_channel: str
    answer_hours: int
    timeout: int


class MailSettings(NamedTuple):
    smtp_host: str
    smtp_port: int
    smtp_starttls: bool
    smtp_user: str
    smtp_password: str
    sender: str
    alerts_list: str


class FilesSettings(NamedTuple):
    root: str


class HiveSettings(NamedTuple):
    warehouse_dir: str
    metastore_dir: Path
    metastore_uri: str


class OnboardSettings(NamedTuple):
    groups: tuple[str, ...]


class DumpsSettings(NamedTuple):
    root: str
    wikis: tuple[str, ...]
    stall_hours: int
    expected_days: int
    size_drop_percent: int
    public_url: str
    snapshot_host: str
    worker_config: str
    big_wikis: tuple[str, ...]


class ClusterSettings(NamedTuple):
    launcher: str
    launcher_units: tuple[str, ...]
    cumin: str
    deployment: str
    cloud_replica: str
    cloud_replica_user: str
    jobs_user: str
    hdfs_user: str
    kerberos: str


class RunnerSettings(NamedTuple):
    allow_changes: tuple[str, ...]
    timeout_minutes: int


class RefineSettings(NamedTuple):
    jobs: tuple[str, ...]
    runner: str
    runner_key: str
    runner_known_hosts: str
    rerun_timeout_minutes: int


class OffboardSettings(NamedTuple):
    task_pattern: str
    archive_dir: str
    archive_owner: str
    summarize_above: int
    host_timeout: int
    cumin_hosts: str


class WarehouseSettings(NamedTuple):
    backend: str


class AirflowSettings(NamedTuple):
    poll_seconds: int
    lookback_hours: int
    druid_overlord_url: str
    druid_console_url: str


class AlertmanagerSettings(NamedTuple):
    ack_silences: bool
    ack_minutes: int
    sync_seconds: int


class CheckSettings(NamedTuple):
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
    for name, annotation in cls.__annotations__.items():
        if name in given:
            kwargs[name] = given[name]
            continue
        value = values[f"{prefix}.{name}"]
        written = getattr(annotation, "__forward_arg__", annotation)  # NamedTuple's ForwardRef
        if str(written).startswith("tuple"):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        kwargs[name] = value
    return cls(**kwargs)
