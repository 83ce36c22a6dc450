"""The Tuesday deployment train: for each configured project, what the deployed version is,
which commits of the main branch are not deployed yet, and the steps to deploy it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from opsweek.adapters.git import Commit, GitRepo
from opsweek.db.models import SalEntry
from opsweek.duties.checklist import fill, from_config, step
from opsweek.errors import BadInput, ConfigError, NotFound, OpsweekError, Unavailable
from opsweek.sal.log import record_action
from opsweek.steps import Step

FIELDS = {"name", "repo", "branch", "deployed_tag", "deployed_file", "deployed_command", "steps"}
HOW = ("deployed_tag", "deployed_file", "deployed_command")
DEFAULT_STEPS = (
    step("Read the changes", "opsweek train status"),
    step("Deploy <project> <head> following its deployment instructions"),
    step("Log the deploy to the SAL", "opsweek train deployed <project> <head>"),
)
COMMAND_TIMEOUT = 60


@dataclass(frozen=True)
class TrainProject:
    name: str
    repo: str
    branch: str = "main"
    deployed_tag: str = ""
    deployed_file: str = ""
    deployed_command: str = ""
    steps: tuple[Step, ...] = DEFAULT_STEPS


def load_projects(entries: Iterable[Mapping[str, Any]]) -> list[TrainProject]:
    projects: list[TrainProject] = []
    for number, entry in enumerate(entries, start=1):
        where = f"train.projects entry {number}"
        unknown = set(entry) - FIELDS
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        name, repo = str(entry.get("name", "")).strip(), str(entry.get("repo", "")).strip()
        if not name or not repo:
            raise ConfigError(f"{where}: name and repo are required")
        if name in {p.name for p in projects}:
            raise ConfigError(f"{where}: project {name!r} is configured twice")
        given = [how for how in HOW if entry.get(how)]
        if len(given) != 1:
            raise ConfigError(f"{where} ({name}): give exactly one of {', '.join(HOW)}")
        steps = entry.get("steps", DEFAULT_STEPS)
        if not isinstance(steps, list | tuple):
            raise ConfigError(f"{where} ({name}): steps must be a list")
        steps = [
            s if isinstance(s, Step) else from_config(s, f"{where} ({name}) step {n}")
            for n, s in enumerate(steps, start=1)
        ]
        projects.append(
            TrainProject(
                name=name,
                repo=repo,
                branch=str(entry.get("branch", "main")),
                steps=tuple(steps),
                **{given[0]: str(entry[given[0]])},
            )
        )
    return projects


@dataclass
class ProjectStatus:
    project: TrainProject
    deployed: str | None = None
    head: str | None = None
    commits: list[Commit] = field(default_factory=list)
    error: str | None = None

    @property
    def steps(self) -> list[Step]:
        return fill(
            self.project.steps,
            {
                "project": self.project.name,
                "head": (self.head or "")[:12],
                "deployed": self.deployed or "",
            },
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.project.name,
            "repo": self.project.repo,
            "branch": self.project.branch,
            "deployed": self.deployed,
            "head": self.head,
            "pending": len(self.commits),
            "commits": [
                {"sha": c.sha, "author": c.author, "at": c.at.isoformat(), "subject": c.subject}
                for c in self.commits
            ],
            "steps": [s.as_json() for s in self.steps] if self.commits else [],
            "error": self.error,
        }


def deployed_version(project: TrainProject, repo: GitRepo) -> str:
    if project.deployed_tag:
        tag = repo.newest_tag(project.deployed_tag)
        if tag is None:
            raise Unavailable(f"no tag matches {project.deployed_tag!r}")
        return tag
    if project.deployed_file:
        path = Path(project.deployed_file).expanduser()
        try:
            lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
        except OSError as exc:
            raise Unavailable(f"cannot read {path}: {exc.strerror}") from None
        version = next((ln for ln in lines if ln and not ln.startswith("#")), "")
        if not version:
            raise Unavailable(f"{path} names no version")
        return version.split()[0]
    try:
        done = subprocess.run(
            project.deployed_command,
            shell=True,  # the team's own configured command, like a cron line
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise Unavailable(f"deployed_command timed out after {COMMAND_TIMEOUT} s") from None
    output = done.stdout.strip().split()
    if done.returncode != 0 or not output:
        reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise Unavailable(f"deployed_command failed: {reason}")
    return output[0]


def project_status(
    project: TrainProject, cache_dir: Path, target: str | None = None
) -> ProjectStatus:
    """Deployed version, the head of the branch (or ``target``) and the commits between."""
    status = ProjectStatus(project)
    try:
        repo = GitRepo(project.repo, cache_dir)
        status.head = repo.resolve(target or project.branch)
        status.deployed = deployed_version(project, repo)
        status.commits = repo.commits_between(status.deployed, status.head)
    except OpsweekError as exc:
        status.error = str(exc)
    return status


def record_deploy(
    session: Session, actor: str, status: ProjectStatus, version: str | None
) -> SalEntry:
    """The SAL entry of a deploy, as the runbook asks ("notify the team of each deployment").
    ``status`` was read up to the deployed version, so its commits are what went out."""
    if status.error and version is None:
        raise BadInput(f"{status.project.name}: {status.error}; name the version deployed")
    deployed = version or (status.head or "")[:12]
    if not deployed:
        raise NotFound(f"{status.project.name}: nothing to deploy")
    count = len(status.commits)
    since = (
        f", {count} commit{'s' if count != 1 else ''} since {status.deployed}"
        if status.deployed and not status.error
        else ""
    )
    return record_action(
        session, actor, f"deployed {status.project.name} {deployed} (train{since})"
    )
