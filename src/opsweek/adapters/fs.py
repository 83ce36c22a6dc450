"""Files "on HDFS" through fsspec: a local directory standing for HDFS '/' in the embedded
default, HDFS or WebHDFS in production. Paths given and returned are HDFS paths ('/user/x')."""

from __future__ import annotations

import grp
import os
import posixpath
import pwd
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fsspec.core import url_to_fs

from opsweek.errors import Unavailable


@dataclass(frozen=True)
class Entry:
    path: str
    type: str  # file, directory, or summary (a directory summarized as one line)
    size: int
    owner: str
    group: str
    mtime: datetime | None
    files: int = 1

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "type": self.type,
            "size": self.size,
            "files": self.files,
            "owner": self.owner,
            "group": self.group,
            "mtime": self.mtime.isoformat().replace("+00:00", "Z") if self.mtime else None,
        }


@dataclass
class TreeSummary:
    """What lies under one path: totals, and entries (one per subdirectory when there are too
    many to list)."""

    path: str
    exists: bool
    files: int = 0
    size: int = 0
    newest: datetime | None = None
    owners: set[str] = field(default_factory=set)
    entries: list[Entry] = field(default_factory=list)
    summarized: bool = False

    @property
    def fingerprint(self) -> str:
        """Changes when a file under the path is added, removed, resized or touched."""
        newest = self.newest.isoformat() if self.newest else "-"
        return f"{self.files}:{self.size}:{newest}"

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "found": self.exists,
            "files": self.files,
            "size": self.size,
            "newest": self.newest.isoformat().replace("+00:00", "Z") if self.newest else None,
            "owners": sorted(self.owners),
            "summarized": self.summarized,
            "entries": [e.as_json() for e in self.entries],
        }


def _owner(info: dict[str, Any]) -> tuple[str, str]:
    if "owner" in info:  # HDFS, WebHDFS
        return str(info.get("owner", "")), str(info.get("group", ""))
    uid, gid = info.get("uid"), info.get("gid")
    try:
        owner = pwd.getpwuid(uid).pw_name if uid is not None else ""
    except KeyError:
        owner = str(uid)
    try:
        group = grp.getgrgid(gid).gr_name if gid is not None else ""
    except KeyError:
        group = str(gid)
    return owner, group


def _mtime(info: dict[str, Any]) -> datetime | None:
    for key in ("mtime", "modificationTime", "last_modified"):
        value = info.get(key)
        if isinstance(value, int | float):
            seconds = value / 1000 if value > 1e11 else value  # HDFS gives milliseconds
            return datetime.fromtimestamp(seconds, UTC)
        if isinstance(value, datetime):
            return value.astimezone(UTC)
    return None


class Files:
    def __init__(self, root_url: str) -> None:
        try:
            self.fs, root = url_to_fs(root_url)
        except (ImportError, ValueError) as exc:
            raise Unavailable(f"files.root {root_url!r}: {exc}") from None
        self.root = root.rstrip("/")
        self.root_url = root_url.rstrip("/")

    def is_local(self) -> bool:
        """Whether the files are on this machine's filesystem (not HDFS)."""
        protocol = self.fs.protocol
        return protocol in ("file", ("file", "local")) or "file" in protocol

    def real(self, path: str) -> str:
        return self.root + "/" + path.lstrip("/") if path != "/" else self.root or "/"

    def url(self, path: str) -> str:
        """The URL a Hive location would carry for this HDFS path."""
        return self.root_url + "/" + path.lstrip("/")

    def hdfs_path(self, location: str) -> str | None:
        """The HDFS path of a location URL under the root, None when it lies elsewhere."""
        for prefix in (self.root_url, "file:" + self.root, self.root):
            if prefix and location.startswith(prefix):
                rest = location[len(prefix) :]
                if rest == "" or rest.startswith("/"):
                    return rest or "/"
        return None

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(self.real(path)))

    def listdir(self, path: str) -> list[str]:
        """The paths of the directories in ``path`` (none when it is not there)."""
        if not self.fs.isdir(self.real(path)):
            return []
        prefix = path.rstrip("/")
        return sorted(
            f"{prefix}/{entry['name'].rstrip('/').rsplit('/', 1)[-1]}"
            for entry in self.fs.ls(self.real(path), detail=True)
            if entry.get("type") == "directory"
        )

    def modified(self, path: str) -> datetime | None:
        """When the file at ``path`` was last written; None when there is no such file."""
        try:
            return _mtime(self.fs.info(self.real(path)))
        except FileNotFoundError:
            return None

    def owner(self, path: str) -> tuple[str, str] | None:
        """The owner and group of ``path``; None when there is nothing there."""
        try:
            return _owner(self.fs.info(self.real(path)))
        except FileNotFoundError:
            return None

    def summarize(self, path: str, limit: int) -> TreeSummary:
        """Totals under ``path``; entries listed one by one up to ``limit``, else one per
        subdirectory."""
        real = self.real(path)
        try:
            if not self.fs.exists(real):
                return TreeSummary(path, exists=False)
            found = self.fs.find(real, withdirs=True, detail=True)
        except OSError as exc:
            raise Unavailable(f"{path}: {exc}") from None
        summary = TreeSummary(path, exists=True)
        entries: list[Entry] = []
        for real_path, info in sorted(found.items()):
            owner, group = _owner(info)
            mtime = _mtime(info)
            is_dir = info.get("type") == "directory"
            size = 0 if is_dir else int(info.get("size") or 0)
            if not is_dir:
                summary.files += 1
                summary.size += size
            summary.owners.add(owner)
            if not is_dir and mtime and (summary.newest is None or mtime > summary.newest):
                summary.newest = mtime
            if is_dir:
                continue  # files are listed; their directories show in their paths
            hdfs = "/" + real_path[len(self.root) :].lstrip("/") if self.root else real_path
            entries.append(Entry(hdfs, "file", size, owner, group, mtime))
        if len(entries) <= limit:
            summary.entries = entries
            return summary
        summary.summarized = True
        groups: dict[str, list[Entry]] = {}
        for entry in entries:
            relative = entry.path[len(path.rstrip("/")) + 1 :]
            head = relative.split("/", 1)[0]
            groups.setdefault(posixpath.join(path, head), []).append(entry)
        for group_path, items in sorted(groups.items()):
            times = [e.mtime for e in items if e.mtime]
            owners = sorted({e.owner for e in items})
            summary.entries.append(
                Entry(
                    group_path,
                    "summary" if len(items) > 1 else "file",
                    sum(e.size for e in items),
                    ",".join(owners),
                    items[0].group,
                    max(times) if times else None,
                    files=len(items),
                )
            )
        return summary

    def fingerprint(self, path: str, exclude: list[str] | tuple[str, ...] = ()) -> str:
        """The summary fingerprint of ``path``, leaving out the subtrees in ``exclude`` (what
        the plan archives before removing the rest); empty when the path is gone."""
        real = self.real(path)
        if not self.fs.exists(real):
            return ""
        skip = tuple(self.real(e).rstrip("/") for e in exclude)
        files = size = 0
        newest: datetime | None = None
        for real_path, info in self.fs.find(real, detail=True).items():
            if any(real_path == s or real_path.startswith(s + "/") for s in skip):
                continue
            files += 1
            size += int(info.get("size") or 0)
            mtime = _mtime(info)
            if mtime and (newest is None or mtime > newest):
                newest = mtime
        return f"{files}:{size}:{newest.isoformat() if newest else '-'}"

    def remove(self, path: str) -> None:
        self.fs.rm(self.real(path), recursive=True)

    def makedirs(self, path: str) -> None:
        self.fs.makedirs(self.real(path), exist_ok=True)

    def move(self, source: str, target_dir: str) -> str:
        """``hdfs dfs -mv SOURCE TARGET_DIR/``: returns the new path."""
        destination = posixpath.join(target_dir, posixpath.basename(source.rstrip("/")))
        if self.exists(destination):
            raise Unavailable(f"{destination} exists already; not overwriting it")
        self.fs.mv(self.real(source), self.real(destination), recursive=True)
        return destination

    def chown(self, path: str, owner: str, group: str) -> str:
        """Change owner and group recursively. Returns what was done (the local filesystem
        can only give owners and groups this machine knows)."""
        if hasattr(self.fs, "chown"):  # WebHDFS
            for real in [self.real(path), *self.fs.find(self.real(path), withdirs=True)]:
                self.fs.chown(real, owner=owner, group=group)
            return f"owner set to {owner}:{group}"
        if self.is_local():
            try:
                uid, gid = pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
            except KeyError:
                return f"owner left as is: {owner}:{group} is unknown on this machine"
            for real in [self.real(path), *self.fs.find(self.real(path), withdirs=True)]:
                os.chown(real, uid, gid)
            return f"owner set to {owner}:{group}"
        raise Unavailable(f"cannot change owners on {self.root_url}; run the printed command")
