"""Settings: defaults, opsweek.toml, OPSWEEK_* variables, validation, masking, documentation."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsweek.config import SETTINGS, TABLE_LISTS, load_settings, mask_url
from opsweek.errors import ConfigError

CONFIGURATION = Path(__file__).parents[1] / "docs" / "configuration.md"


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(env={}, cwd=tmp_path)
    assert settings.rotation.handoff_weekday == "thursday"
    assert settings.rotation.published_weeks == 8
    assert settings.database_url == f"sqlite:///{settings.data_dir / 'opsweek.db'}"
    assert settings.config_path is None


def test_file_then_environment(tmp_path: Path) -> None:
    (tmp_path / "opsweek.toml").write_text(
        'data_dir = "/srv/ow"\n[team]\ntimezone = "Europe/Paris"\n'
        "[rotation]\npublished_weeks = 10\nworking_days = ['mon', 'tue']\n"
    )
    env = {"OPSWEEK_ROTATION_PUBLISHED_WEEKS": "4"}
    settings = load_settings(env=env, cwd=tmp_path)
    assert settings.data_dir == Path("/srv/ow")
    assert settings.team_timezone == "Europe/Paris"
    assert settings.rotation.published_weeks == 4
    assert settings.rotation.working_days == "mon,tue"
    assert settings.sources["rotation.published_weeks"] == "env"
    assert settings.sources["team.timezone"] == "file"


def test_explicit_and_env_config_paths(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text('[team]\ntimezone = "Asia/Tokyo"\n')
    assert load_settings(other, env={}, cwd=tmp_path).team_timezone == "Asia/Tokyo"
    env = {"OPSWEEK_CONFIG": str(other)}
    assert load_settings(env=env, cwd=tmp_path).team_timezone == "Asia/Tokyo"
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml", env={}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[team]\ntimezone = 'Mars/Base'\n", "unknown timezone"),
        ("[rotation]\nhandoff_weekday = 'someday'\n", "unknown weekday"),
        ("[rotation]\npublished_weeks = 'many'\n", "published_weeks"),
        ("[rotation]\npublished_weeks = -1\n", "must be zero or more"),
        ("[rotation]\nhandoff_time = '9 o clock'\n", "expected a time"),
        ("[rotaton]\npublished_weeks = 3\n", "unknown setting 'rotaton.published_weeks'"),
        ("this is = not toml [", "not valid TOML"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "opsweek.toml").write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_settings(env={}, cwd=tmp_path)


def test_bad_environment_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OPSWEEK_ROTATION_LOOKBACK_WEEKS"):
        load_settings(env={"OPSWEEK_ROTATION_LOOKBACK_WEEKS": "x"}, cwd=tmp_path)


def test_database_password_is_masked(tmp_path: Path) -> None:
    url = "postgresql+psycopg://ops:s3cret@db.example.org:5432/opsweek"
    settings = load_settings(env={"OPSWEEK_DATABASE_URL": url}, cwd=tmp_path)
    shown = {row["name"]: row["value"] for row in settings.shown()}
    assert "s3cret" not in str(shown)
    assert shown["database_url"] == "postgresql+psycopg://ops:********@db.example.org:5432/opsweek"
    assert mask_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_no_credential_of_any_url_setting_is_shown(tmp_path: Path) -> None:
    """config show leaked ?password=..., the part of a password after an '@', and the
    credentials in tracker.url."""
    env = {
        "OPSWEEK_DATABASE_URL": "postgresql+psycopg://ops:p@ss-ONE@db.example.org/opsweek",
        "OPSWEEK_TRACKER_URL": "https://bot:TWO-secret@phabricator.example.org/api/",
        "OPSWEEK_CHECKS_REPLICA_URL": "mysql+pymysql://r@replica/{wiki}?password=THREE",
    }
    settings = load_settings(env=env, cwd=tmp_path)
    shown = str(settings.shown())
    for secret in ("ss-ONE", "TWO-secret", "THREE"):
        assert secret not in shown
    values = {row["name"]: row["value"] for row in settings.shown()}
    assert values["tracker.url"] == "https://bot:********@phabricator.example.org/api/"
    assert values["checks.replica_url"] == "********"  # a secret setting: hidden whole


def test_every_setting_is_documented() -> None:
    page = CONFIGURATION.read_text()
    names = [s.name for s in SETTINGS] + [t.name for t in TABLE_LISTS]
    missing = [name for name in names if f"`{name}`" not in page]
    assert not missing, f"document these settings in docs/configuration.md: {missing}"
    assert all(s.help for s in SETTINGS)


def test_table_lists_are_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "opsweek.toml"
    path.write_text(
        '[[duties]]\nkey = "irc"\nenabled = false\n'
        '[[train.projects]]\nname = "refinery"\nrepo = "."\ndeployed_tag = "v*"\n'
    )
    settings = load_settings(path, env={})
    assert settings.duty_entries == [{"key": "irc", "enabled": False}]
    assert settings.train_project_entries[0]["name"] == "refinery"
    path.write_text('[train]\nprojects = "refinery"\n')
    with pytest.raises(
        ConfigError, match=r"train\.projects must be written as \[\[train\.projects\]\]"
    ):
        load_settings(path, env={})
