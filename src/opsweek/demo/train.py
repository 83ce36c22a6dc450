"""A demo deployment train: two small git repositories with a deployed version and commits
waiting, and the settings that point `opsweek train status` at them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PROJECTS = {
    "refinery": (
        ["Initial import", "v0.2.30", "Refine: add event.mediawiki_page_change", "v0.2.31"],
        [
            "Bump Spark to 3.5 for refine jobs (T358001)",
            "refinery-drop-older-than: keep 90 days of wmf.webrequest",
            "Fix the sequence statistics check for upload webrequests",
        ],
    ),
    "airflow-dags": (
        ["Initial analytics instance", "DEPLOYED"],
        [
            "edit_hourly: retry process_edit_hourly twice before failing",
            "mediawiki_history_reduced: wait for the _PARTITIONED flag",
        ],
    ),
}


def _git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "opsweek demo",
        "GIT_AUTHOR_EMAIL": "demo@example.org",
        "GIT_COMMITTER_NAME": "opsweek demo",
        "GIT_COMMITTER_EMAIL": "demo@example.org",
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def _commit(repo: Path, subject: str, number: int) -> None:
    (repo / "CHANGES").open("a", encoding="utf-8").write(f"{number}. {subject}\n")
    _git(repo, "add", "CHANGES")
    _git(repo, "commit", "--quiet", "-m", subject)


def seed_train(root: Path) -> str | None:
    """Create the demo repositories under ``root`` and return the settings naming them (TOML);
    None when git is not installed or fails."""
    if shutil.which("git") is None:
        return None
    try:
        return _seed(root)
    except (OSError, subprocess.CalledProcessError):
        return None


def _seed(root: Path) -> str:
    root.mkdir(parents=True, exist_ok=True)
    for name, (history, pending) in PROJECTS.items():
        repo = root / name
        if repo.exists():
            shutil.rmtree(repo)
        repo.mkdir()
        _git(repo, "init", "--quiet", "--initial-branch=main")
        number = 0
        for item in history:
            if item.startswith("v"):
                _git(repo, "tag", item)
            elif item == "DEPLOYED":
                head = subprocess.run(
                    ["git", "-C", str(repo), "rev-parse", "HEAD"],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.strip()
                (root / f"{name}.deployed").write_text(f"# deployed revision\n{head}\n")
            else:
                number += 1
                _commit(repo, item, number)
        for subject in pending:
            number += 1
            _commit(repo, subject, number)
    return (
        "[[train.projects]]\n"
        'name = "refinery"\n'
        f'repo = "{root / "refinery"}"\n'
        'deployed_tag = "v*"\n\n'
        "[[train.projects]]\n"
        'name = "airflow-dags"\n'
        f'repo = "{root / "airflow-dags"}"\n'
        f'deployed_file = "{root / "airflow-dags.deployed"}"\n'
    )
