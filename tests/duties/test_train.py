"""The deployment train against real git repositories made for the test."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from opsweek.duties.train import load_projects, project_status
from opsweek.errors import ConfigError
from tests.conftest import Cli


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Ana Martín",
        "GIT_AUTHOR_EMAIL": "ana@example.org",
        "GIT_COMMITTER_NAME": "Ana Martín",
        "GIT_COMMITTER_EMAIL": "ana@example.org",
        "GIT_AUTHOR_DATE": "2026-11-20T10:00:00+00:00",
        "GIT_COMMITTER_DATE": "2026-11-20T10:00:00+00:00",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    ).stdout.strip()


def commit(repo: Path, name: str, subject: str) -> str:
    (repo / name).write_text(subject + "\n")
    git(repo, "add", name)
    git(repo, "commit", "--quiet", "-m", subject)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def refinery(tmp_path: Path) -> Path:
    repo = tmp_path / "refinery"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    commit(repo, "a", "Initial import")
    git(repo, "tag", "v0.2.9")
    commit(repo, "b", "Refine: add event.mediawiki_page_change")
    git(repo, "tag", "v0.2.10")  # version order, not text order: v0.2.10 > v0.2.9
    commit(repo, "c", "Bump Spark to 3.5 (T358001)")
    commit(repo, "d", "Drop-older-than: keep 90 days of webrequest")
    return repo


def test_commits_since_the_newest_tag(refinery: Path, tmp_path: Path) -> None:
    [project] = load_projects([{"name": "refinery", "repo": str(refinery), "deployed_tag": "v*"}])
    status = project_status(project, tmp_path / "cache")
    assert status.error is None
    assert status.deployed == "v0.2.10"
    assert [c.subject for c in status.commits] == [
        "Drop-older-than: keep 90 days of webrequest",
        "Bump Spark to 3.5 (T358001)",
    ]
    assert status.commits[0].author == "Ana Martín"
    assert (
        status.steps[1].text
        == f"Deploy refinery {status.head[:12]} following its deployment instructions"
    )  # type: ignore[index]
    assert status.steps[2].command == f"opsweek train deployed refinery {status.head[:12]}"


def test_deployed_version_from_a_file_a_command_and_a_mirrored_url(
    refinery: Path, tmp_path: Path
) -> None:
    first = git(refinery, "rev-list", "--max-parents=0", "HEAD")
    version_file = tmp_path / "deployed-version"
    version_file.write_text(f"# scap revision\n{first}\n")
    projects = load_projects(
        [
            {"name": "by-file", "repo": str(refinery), "deployed_file": str(version_file)},
            {"name": "by-command", "repo": str(refinery), "deployed_command": "echo v0.2.9"},
            {"name": "by-url", "repo": f"file://{refinery}", "deployed_tag": "v0.2.*"},
        ]
    )
    counts = {p.name: len(project_status(p, tmp_path / "cache").commits) for p in projects}
    assert counts == {"by-file": 3, "by-command": 3, "by-url": 2}
    # the URL was mirrored under the cache and is fetched again next time
    commit(refinery, "e", "Fix a typo")
    assert len(project_status(projects[2], tmp_path / "cache").commits) == 3


def test_problems_are_per_project(refinery: Path, tmp_path: Path) -> None:
    projects = load_projects(
        [
            {"name": "no-tag", "repo": str(refinery), "deployed_tag": "release-*"},
            {"name": "bad-cmd", "repo": str(refinery), "deployed_command": "exit 3"},
            {"name": "missing", "repo": str(tmp_path / "nope"), "deployed_tag": "v*"},
        ]
    )
    errors = {p.name: project_status(p, tmp_path / "cache").error for p in projects}
    assert errors["no-tag"] == "no tag matches 'release-*'"
    assert errors["bad-cmd"] == "deployed_command failed: exit 3"
    assert errors["missing"] and "is not a git repository" in errors["missing"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "x", "repo": "."}, "exactly one of"),
        ({"name": "x", "repo": ".", "deployed_tag": "v*", "deployed_file": "f"}, "exactly one"),
        ({"repo": "."}, "name and repo are required"),
        ({"name": "x", "repo": ".", "deployed_tag": "v*", "where": 1}, "unknown field"),
    ],
)
def test_bad_project_config(entry: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_projects([entry])


def test_train_cli_lists_and_records_a_deploy(cli: Cli, refinery: Path, tmp_path: Path) -> None:
    (tmp_path / "opsweek.toml").write_text(
        f'[[train.projects]]\nname = "refinery"\nrepo = "{refinery}"\ndeployed_tag = "v*"\n'
    )
    listing = cli("train", "status", "--json")
    assert listing.exit_code == 1  # something is waiting
    [project] = listing.json()["projects"]
    assert project["pending"] == 2 and project["deployed"] == "v0.2.10"
    head = project["head"]
    entry = cli.json("train", "deployed", "refinery")
    assert entry["message"] == f"deployed refinery {head[:12]} (train, 2 commits since v0.2.10)"
    assert entry["nick"] == "tester"
    assert cli("train", "deployed", "nope").exit_code == 2
    text = cli("train", "status").stdout
    assert "Bump Spark to 3.5 (T358001)" in text and "1. Read the changes" in text


def test_a_repository_location_is_never_an_option(tmp_path: Path) -> None:
    from opsweek.adapters.git import GitRepo
    from opsweek.errors import BadInput

    for location in (
        "--upload-pack=touch /tmp/opsweek-pwned",
        "ssh://-oProxyCommand=touch%20/tmp/opsweek-pwned/x",
        "git@-oProxyCommand=x:repo",
    ):
        with pytest.raises(BadInput, match="not a repository location"):
            GitRepo(location, tmp_path)
    assert not Path("/tmp/opsweek-pwned").exists()
