"""Hosts where departed users leave home directories: over SSH (asyncssh, every host in
parallel, each with its own timeout) or a local directory standing for a host's '/'."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from opsweek.errors import ConfigError, Unavailable

FIELDS = {"name", "ssh", "local_root", "key", "known_hosts", "root"}


@dataclass(frozen=True)
class HostEntry:
    path: str  # as seen on the host
    type: str
    size: int
    owner: str
    mtime: datetime | None

    @property
    def fingerprint(self) -> str:
        return f"{self.type}:{self.size}:{self.mtime.isoformat() if self.mtime else '-'}"

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "type": self.type,
            "size": self.size,
            "owner": self.owner,
            "mtime": self.mtime.isoformat().replace("+00:00", "Z") if self.mtime else None,
        }


@dataclass(frozen=True)
class Completed:
    """A command run on a host: its exit status (None when the connection gave none, as
    when a signal ended it) and output."""

    exit_status: int | None
    stdout: str
    stderr: str


class Host(Protocol):
    name: str

    async def stat(self, paths: Sequence[str], globs: Sequence[str]) -> list[HostEntry]:
        """The paths that exist (and what ``globs`` match), with size, owner and mtime."""
        ...

    async def remove(self, path: str) -> None: ...


# One shell script for both kinds of host: for each path that exists, print
# type|size in bytes|owner|mtime epoch|path. The paths are quoted; globs are the only words
# left for the shell to expand and are built from a validated user name.
SCRIPT = (
    'for p in {words}; do [ -e "$p" ] || continue; '
    't=$(stat -c %F "$p"); s=$(du -sb "$p" 2>/dev/null | cut -f1); '
    'printf "%s|%s|%s|%s|%s\\n" "$t" "${{s:-0}}" "$(stat -c %U "$p")" '
    '"$(stat -c %Y "$p")" "$p"; done'
)


def _script(root: str, paths: Sequence[str], globs: Sequence[str]) -> str:
    prefix = root.rstrip("/")
    words = [shlex.quote(prefix + p) for p in paths]
    words += [shlex.quote(prefix + g.rsplit("*", 1)[0]) + "*" for g in globs]
    return SCRIPT.format(words=" ".join(words))


def _parse(output: str, root: str) -> list[HostEntry]:
    prefix = root.rstrip("/")
    found = []
    for line in output.splitlines():
        kind, size, owner, mtime, path = line.split("|", 4)
        found.append(
            HostEntry(
                path[len(prefix) :] if prefix and path.startswith(prefix) else path,
                "directory" if kind == "directory" else "file",
                int(size or 0),
                owner,
                datetime.fromtimestamp(int(mtime), UTC) if mtime.isdigit() else None,
            )
        )
    return found


class LocalHost:
    """A host whose '/' is a local directory (the embedded default and tests)."""

    def __init__(self, name: str, root: str) -> None:
        self.name = name
        self.root = root

    async def stat(self, paths: Sequence[str], globs: Sequence[str]) -> list[HostEntry]:
        script = _script(self.root, paths, globs)
        done = await asyncio.to_thread(
            subprocess.run, ["sh", "-c", script], capture_output=True, text=True, check=False
        )
        return [e for e in _parse(done.stdout, self.root) if "*" not in e.path]

    async def remove(self, path: str) -> None:
        target = Path(self.root.rstrip("/") + path)
        if target.is_dir() and not target.is_symlink():
            await asyncio.to_thread(shutil.rmtree, target)
        elif target.exists() or target.is_symlink():
            target.unlink()


class SshHost:
    """A host reached over SSH with asyncssh; ``root`` prefixes every path (for a host whose
    home directories live under a chroot or a container root)."""

    def __init__(
        self,
        name: str,
        address: str,
        timeout: float,
        key: str = "",
        known_hosts: str = "",
        root: str = "/",
    ) -> None:
        user, _, hostport = address.rpartition("@")
        host, _, port = hostport.partition(":")
        if not host or (port and not port.isdigit()):
            raise ConfigError(f"hosts {name}: ssh must be user@host[:port], not {address!r}")
        self.name = name
        self.user = user or None
        self.host = host
        self.port = int(port or 22)
        self.timeout = timeout
        self.key = os.path.expanduser(key) if key else None
        self.known_hosts = os.path.expanduser(known_hosts) if known_hosts else None
        self.root = root

    async def execute(self, command: str, timeout: float | None = None) -> Completed:
        """Run ``command`` (a shell command line) on the host; its exit status and output.
        Unavailable when the host cannot be reached or the command outlives ``timeout``."""
        import asyncssh

        options: dict[str, Any] = {"username": self.user, "port": self.port}
        if self.key:
            options["client_keys"] = [self.key]
        if self.known_hosts is not None:  # else asyncssh's default, ~/.ssh/known_hosts
            options["known_hosts"] = self.known_hosts
        limit = timeout or self.timeout
        try:
            async with asyncio.timeout(limit):
                async with asyncssh.connect(self.host, **options) as connection:
                    result = await connection.run(command, check=False)
        except TimeoutError:
            raise Unavailable(f"{self.name}: no answer within {limit:g} s") from None
        except (OSError, asyncssh.Error) as exc:
            raise Unavailable(f"{self.name}: {exc}") from None
        return Completed(result.exit_status, str(result.stdout or ""), str(result.stderr or ""))

    async def _run(self, command: str) -> str:
        result = await self.execute(command)
        if result.exit_status not in (0, None):
            raise Unavailable(f"{self.name}: exit {result.exit_status}: {result.stderr[:200]}")
        return result.stdout

    async def stat(self, paths: Sequence[str], globs: Sequence[str]) -> list[HostEntry]:
        output = await self._run(_script(self.root, paths, globs))
        return [e for e in _parse(output, self.root) if "*" not in e.path]

    async def remove(self, path: str) -> None:
        await self._run("rm -rf -- " + shlex.quote(self.root.rstrip("/") + path))


def hosts_from(entries: Sequence[Mapping[str, Any]], timeout: float) -> list[Host]:
    hosts: list[Host] = []
    for number, entry in enumerate(entries, start=1):
        unknown = set(entry) - FIELDS
        name = str(entry.get("name", "")).strip()
        where = f"hosts entry {number}" + (f" ({name})" if name else "")
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        if not name:
            raise ConfigError(f"{where}: name is required")
        if bool(entry.get("ssh")) == bool(entry.get("local_root")):
            raise ConfigError(f"{where}: give either ssh or local_root")
        if entry.get("local_root"):
            hosts.append(LocalHost(name, str(Path(str(entry["local_root"])).expanduser())))
        else:
            hosts.append(
                SshHost(
                    name,
                    str(entry["ssh"]),
                    timeout,
                    str(entry.get("key", "")),
                    str(entry.get("known_hosts", "")),
                    str(entry.get("root", "/")),
                )
            )
    return hosts
