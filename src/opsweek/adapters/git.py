"""Reading git repositories with the git command: tags, refs and the commits between two
refs. A repository given by URL is mirrored under the data directory and fetched each time."""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from opsweek.errors import BadInput, Unavailable

FIELD, RECORD = "\x1f", "\x1e"
URL = re.compile(r"^(https?|ssh|git|file)://|^[\w.-]+@[\w.-]+:")


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    at: datetime
    subject: str


class GitRepo:
    def __init__(self, location: str, cache_dir: Path, timeout: float = 120.0) -> None:
        if location.startswith("-") or re.search(r"://-|@-", location):
            raise BadInput(f"not a repository location: {location!r}")
        self.location = location
        self.timeout = timeout
        if URL.match(location):
            digest = hashlib.sha256(location.encode()).hexdigest()[:16]
            self.path = cache_dir / f"{digest}.git"
            self._mirror(cache_dir)
        else:
            self.path = Path(location).expanduser()
            if not (self.path / ".git").exists() and not (self.path / "HEAD").exists():
                raise BadInput(f"{location} is not a git repository")

    def _mirror(self, cache_dir: Path) -> None:
        if self.path.exists():
            self.git("remote", "update", "--prune")
        else:
            cache_dir.mkdir(parents=True, exist_ok=True)
            # "--" first: a location can never be read as an option of git clone
            self._run(["git", "clone", "--quiet", "--mirror", "--", self.location, str(self.path)])

    def _run(self, argv: list[str]) -> str:
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except FileNotFoundError:
            raise Unavailable("git is not installed") from None
        except subprocess.TimeoutExpired:
            raise Unavailable(
                f"git timed out after {self.timeout:g} s on {self.location}"
            ) from None
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
            raise Unavailable(
                f"git {argv[1] if len(argv) > 1 else ''} on {self.location}: {reason}"
            )
        return done.stdout

    def git(self, *args: str) -> str:
        return self._run(["git", "-C", str(self.path), *args])

    def resolve(self, ref: str) -> str:
        if ref.startswith("-"):
            raise BadInput(f"not a git ref: {ref!r}")
        return self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()

    def newest_tag(self, pattern: str) -> str | None:
        if pattern.startswith("-"):
            raise BadInput(f"not a tag pattern: {pattern!r}")
        tags = self.git("tag", "--list", "--sort=-v:refname", "--", pattern).split()
        return tags[0] if tags else None

    def commits_between(self, old: str, new: str) -> list[Commit]:
        """Commits in ``new`` that ``old`` does not have, newest first."""
        fmt = FIELD.join(("%H", "%an", "%aI", "%s")) + RECORD
        out = self.git("log", f"--format={fmt}", f"{self.resolve(old)}..{self.resolve(new)}")
        commits = []
        for record in out.split(RECORD):
            if record.strip():
                sha, author, at, subject = record.strip("\n").split(FIELD, 3)
                commits.append(Commit(sha, author, datetime.fromisoformat(at), subject))
        return commits

    def commit_on_branch(self, branch: str, paths: list[Path], message: str) -> str:
        """Create ``branch`` from the current HEAD, commit ``paths`` (already written) with
        ``message``; returns the new commit. The change is left for review, never pushed."""
        if branch.startswith("-") or not branch:
            raise BadInput(f"not a branch name: {branch!r}")
        self.git("checkout", "--quiet", "-b", branch)
        self.git("add", "--", *[str(p) for p in paths])
        self.git("commit", "--quiet", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    @staticmethod
    def top_of(path: Path) -> Path:
        done = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BadInput(f"{path} is not inside a git checkout")
        return Path(done.stdout.strip())
