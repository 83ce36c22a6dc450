"""Loading the settings (declared in `opsweek.config.declared`).

Values come from, in increasing priority: the defaults, ``opsweek.toml`` (found through
``--config``, ``OPSWEEK_CONFIG`` or the working directory) and ``OPSWEEK_*`` environment
variables (``rotation.published_weeks`` is ``OPSWEEK_ROTATION_PUBLISHED_WEEKS``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from opsweek.config import areas
from opsweek.config.declared import (
    SETTINGS,
    SETTINGS_BY_NAME,
    TABLE_LISTS,
    TABLE_LISTS_BY_NAME,
    Setting,
)
from opsweek.errors import ConfigError

CONFIG_FILE_NAME = "opsweek.toml"


class Settings:
    """Effective settings: values plus where each came from."""

    def __init__(
        self,
        values: Mapping[str, Any],
        sources: Mapping[str, str],
        config_path: Path | None,
        tables: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self._values = dict(values)
        self.sources = dict(sources)
        self.config_path = config_path
        self._tables = {t.name: list((tables or {}).get(t.name, [])) for t in TABLE_LISTS}

    def value(self, name: str) -> Any:
        """One setting by its declared name (for `opsweek config show` and tests; the code
        uses the typed areas below)."""
        return self._values[name]

    def _entries(self, name: str) -> list[dict[str, Any]]:
        return [dict(entry) for entry in self._tables[name]]

    @property
    def duty_entries(self) -> list[dict[str, Any]]:
        """The ``[[duties]]`` tables as written (checked by opsweek.duties.definitions), then
        those of each file of ``maintenance.files`` (the manual maintenance list: each marked
        ``manual`` unless it says otherwise)."""
        entries = self._entries("duties")
        for name in str(self._values["maintenance.files"]).split(","):
            if name.strip():
                entries += [{"manual": True, **e} for e in _duty_file(self._path(name.strip()))]
        return entries

    def _path(self, name: str) -> Path:
        """A path from the settings: relative ones from the settings file's directory."""
        path = Path(name).expanduser()
        if path.is_absolute() or self.config_path is None:
            return path
        return self.config_path.parent / path

    @property
    def airflow_instance_entries(self) -> list[dict[str, Any]]:
        """The ``[[airflow.instances]]`` tables as written (checked by opsweek.adapters.airflow)."""
        return self._entries("airflow.instances")

    @property
    def prometheus_url(self) -> str:
        return str(self._values["prometheus.url"])

    @property
    def dashboard_entries(self) -> list[dict[str, Any]]:
        """The ``[[dashboards]]`` tables as written (checked by opsweek.duties.dashboards)."""
        return self._entries("dashboards")

    @property
    def host_entries(self) -> list[dict[str, Any]]:
        """The ``[[hosts]]`` tables as written (checked by opsweek.adapters.hosts)."""
        return self._entries("hosts")

    @property
    def train_project_entries(self) -> list[dict[str, Any]]:
        """The ``[[train.projects]]`` tables as written (checked by opsweek.duties.train)."""
        return self._entries("train.projects")

    @property
    def data_dir(self) -> Path:
        configured = self._values["data_dir"]
        return Path(configured).expanduser() if configured else _platform_data_dir()

    @property
    def database_url(self) -> str:
        return self._values["database_url"] or f"sqlite:///{self.data_dir / 'opsweek.db'}"

    @property
    def user(self) -> str:
        if self._values["user"]:
            return str(self._values["user"])
        import getpass

        return getpass.getuser()

    @property
    def team_timezone(self) -> str:
        return self._values["team.timezone"]

    # --- each area's settings, typed (opsweek.config.areas) ---------------------------------
    @cached_property
    def database(self) -> areas.DatabaseSettings:
        return areas.build(areas.DatabaseSettings, "database", self._values, url=self.database_url)

    @cached_property
    def rotation(self) -> areas.RotationSettings:
        return areas.build(
            areas.RotationSettings, "rotation", self._values, timezone=self.team_timezone
        )

    @cached_property
    def alerts(self) -> areas.AlertSettings:
        return areas.build(areas.AlertSettings, "alerts", self._values)

    @cached_property
    def intake(self) -> areas.IntakeSettings:
        return areas.build(areas.IntakeSettings, "intake", self._values)

    @cached_property
    def web(self) -> areas.WebSettings:
        configured = self._values["web.base_url"]
        base_url = (
            configured.rstrip("/")
            if configured
            else f"http://{self._values['web.host']}:{self._values['web.port']}"
        )
        return areas.build(areas.WebSettings, "web", self._values, base_url=base_url)

    @cached_property
    def sal(self) -> areas.SalSettings:
        return areas.build(areas.SalSettings, "sal", self._values)

    @cached_property
    def irc(self) -> areas.IrcSettings:
        return areas.build(areas.IrcSettings, "irc", self._values)

    @cached_property
    def duties(self) -> areas.DutySettings:
        return areas.build(areas.DutySettings, "duties", self._values)

    @cached_property
    def handoff(self) -> areas.HandoffSettings:
        return areas.build(areas.HandoffSettings, "handoff", self._values)

    @cached_property
    def tracker(self) -> areas.TrackerSettings:
        return areas.build(areas.TrackerSettings, "tracker", self._values)

    @cached_property
    def chat(self) -> areas.ChatSettings:
        return areas.build(areas.ChatSettings, "chat", self._values)

    @cached_property
    def mail(self) -> areas.MailSettings:
        return areas.build(areas.MailSettings, "mail", self._values)

    @cached_property
    def files(self) -> areas.FilesSettings:
        root = self._values["files.root"] or (self.data_dir / "hdfs").as_uri()
        return areas.build(areas.FilesSettings, "files", self._values, root=root)

    @cached_property
    def hive(self) -> areas.HiveSettings:
        configured = self._values["hive.metastore_dir"]
        return areas.build(
            areas.HiveSettings,
            "hive",
            self._values,
            warehouse_dir=self._values["hive.warehouse_dir"] or "/user/hive/warehouse",
            metastore_dir=(
                Path(configured).expanduser() if configured else self.data_dir / "metastore"
            ),
        )

    @cached_property
    def onboard(self) -> areas.OnboardSettings:
        return areas.build(areas.OnboardSettings, "onboard", self._values)

    @cached_property
    def dumps(self) -> areas.DumpsSettings:
        return areas.build(areas.DumpsSettings, "dumps", self._values)

    @cached_property
    def runner(self) -> areas.RunnerSettings:
        return areas.build(areas.RunnerSettings, "runner", self._values)

    @property
    def runner_entries(self) -> list[dict[str, Any]]:
        """The ``[[runners]]`` tables as written (checked by opsweek.checks.step_runs)."""
        return self._entries("runners")

    @cached_property
    def cluster(self) -> areas.ClusterSettings:
        return areas.build(areas.ClusterSettings, "cluster", self._values)

    @cached_property
    def refine(self) -> areas.RefineSettings:
        return areas.build(areas.RefineSettings, "refine", self._values)

    @cached_property
    def offboard(self) -> areas.OffboardSettings:
        return areas.build(areas.OffboardSettings, "offboard", self._values)

    @cached_property
    def warehouse(self) -> areas.WarehouseSettings:
        return areas.build(areas.WarehouseSettings, "warehouse", self._values)

    @cached_property
    def checks(self) -> areas.CheckSettings:
        return areas.build(areas.CheckSettings, "checks", self._values)

    @cached_property
    def airflow(self) -> areas.AirflowSettings:
        return areas.build(areas.AirflowSettings, "airflow", self._values)

    @cached_property
    def alertmanager(self) -> areas.AlertmanagerSettings:
        return areas.build(areas.AlertmanagerSettings, "alertmanager", self._values)

    @property
    def alertmanager_entries(self) -> list[dict[str, Any]]:
        """The ``[[alertmanager.instances]]`` tables as written (checked by
        opsweek.adapters.alertmanager)."""
        return self._entries("alertmanager.instances")

    def tables_shown(self) -> dict[str, list[dict[str, Any]]]:
        """Each ``[[table]]`` list as written (``[[airflow.instances]]``, ``[[runners]]``...),
        values that look like URLs masked (they hold the names of secrets' variables, never
        secrets)."""
        return {
            name: [
                {
                    key: mask_url(value) if isinstance(value, str) and "://" in value else value
                    for key, value in entry.items()
                }
                for entry in entries
            ]
            for name, entries in self._tables.items()
            if entries
        }

    def shown(self) -> list[dict[str, Any]]:
        """Every setting with its effective value (secrets masked), source and help."""
        rows = []
        for setting in SETTINGS:
            value = self._values[setting.name]
            if setting.name == "data_dir":
                value = str(self.data_dir)
            elif setting.name == "database_url":
                value = mask_url(self.database_url)
            elif setting.name == "user":
                value = self.user
            elif setting.secret and value:
                value = "********"
            elif isinstance(value, str) and "://" in value:
                value = mask_url(value)
            rows.append(
                {
                    "name": setting.name,
                    "value": value,
                    "source": self.sources[setting.name],
                    "env": setting.env_var,
                    "help": setting.help,
                }
            )
        return rows


def _duty_file(path: Path) -> list[dict[str, Any]]:
    """The ``[[duties]]`` tables of a manual maintenance file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"maintenance.files: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"maintenance.files: {path} is not TOML: {exc}") from None
    entries = data.get("duties", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"maintenance.files: {path} must hold [[duties]] tables")
    return [dict(e) for e in entries]


def _platform_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("opsweek", appauthor=False))


SECRET_PARAMS = re.compile(r"(?i)^(password|passwd|pwd|pass|token|secret|api[_-]?key|key)$")


def mask_url(url: str) -> str:
    """A URL with its credentials hidden: the password of its user part (a password may hold
    '@': the user part ends at the last one) and the values of query parameters that carry
    secrets (?password=..., ?token=...)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}:********@{host}" if colon else f"{user}@{host}"
    query = "&".join(
        f"{name}=********" if SECRET_PARAMS.match(name) and value else pair
        for pair in parts.query.split("&")
        if pair
        for name, _, value in [pair.partition("=")]
    )
    if (netloc, query) == (parts.netloc, parts.query):
        return url  # nothing to hide: as written (urlunsplit would change sqlite:////path)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def find_config_file(explicit: str | Path | None, env: Mapping[str, str], cwd: Path) -> Path | None:
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        return path
    if env.get("OPSWEEK_CONFIG"):
        path = Path(env["OPSWEEK_CONFIG"]).expanduser()
        if not path.is_file():
            raise ConfigError(f"OPSWEEK_CONFIG points to {path}, which does not exist")
        return path
    candidate = cwd / CONFIG_FILE_NAME
    return candidate if candidate.is_file() else None


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if name in TABLE_LISTS_BY_NAME:
            flat[name] = value
        elif isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _coerce(setting: Setting, raw: Any, origin: str) -> Any:
    try:
        if setting.type is bool:
            if isinstance(raw, bool):
                value: Any = raw
            elif str(raw).lower() in {"1", "true", "yes", "on"}:
                value = True
            elif str(raw).lower() in {"0", "false", "no", "off"}:
                value = False
            else:
                raise ValueError("expected true or false")
        elif setting.type is int:
            if isinstance(raw, bool):
                raise ValueError("expected a whole number")
            value = int(raw)
        elif setting.type is str and isinstance(raw, list):
            value = ",".join(str(item) for item in raw)
        else:
            value = setting.type(raw)
        if setting.check is not None:
            setting.check(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{origin}: invalid value {raw!r} for {setting.name}: {exc}") from None
    return value


ENV_FILE = "opsweek.env"  # beside opsweek.toml: the secrets, readable by its owner only


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (``#`` comments, blank lines and empty values skipped), from a file
    nobody but its owner may read; {} when there is none."""
    if not path.is_file():
        return {}
    if path.stat().st_mode & 0o077:
        raise ConfigError(f"{path} holds secrets: make it readable by its owner only (chmod 600)")
    found = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, equals, value = text.partition("=")
        if not equals or not name.strip().isidentifier():
            raise ConfigError(f"{path}:{number}: not NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if value:
            found[name.strip()] = value
    return found


def load_settings(
    config: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    env = os.environ if env is None else env
    path = find_config_file(config, env, cwd or Path.cwd())
    if path is not None:
        secrets = read_env_file(path.parent / ENV_FILE)
        if secrets and env is os.environ:  # for the settings naming a variable (password_env)
            for name, value in secrets.items():
                os.environ.setdefault(name, value)
        env = {**secrets, **env}
    values = {s.name: s.default for s in SETTINGS}
    sources = dict.fromkeys(values, "default")
    tables: dict[str, list[dict[str, Any]]] = {}
    if path is not None:
        import tomllib

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        for name, raw in _flatten(data).items():
            if name in TABLE_LISTS_BY_NAME:
                if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
                    raise ConfigError(f"{path}: {name} must be written as [[{name}]] tables")
                tables[name] = raw
                continue
            setting = SETTINGS_BY_NAME.get(name)
            if setting is None:
                raise ConfigError(f"{path}: unknown setting {name!r}")
            values[name] = _coerce(setting, raw, str(path))
            sources[name] = "file"
    for setting in SETTINGS:
        if setting.env_var in env:
            values[setting.name] = _coerce(setting, env[setting.env_var], setting.env_var)
            sources[setting.name] = "env"
    for name, raw in (overrides or {}).items():
        values[name] = _coerce(SETTINGS_BY_NAME[name], raw, "override")
        sources[name] = "override"
    return Settings(values, sources, path, tables)
