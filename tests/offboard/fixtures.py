"""A departed user's leftovers on local directories: an HDFS root with the user's home and
warehouse directories, and a host root with home directories and a user archive."""

from __future__ import annotations

import os
from pathlib import Path


def write(path: Path, text: str, mtime: int = 1_764_000_000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (mtime, mtime))


def hdfs_tree(root: Path, user: str = "elvis") -> None:
    write(root / f"user/{user}/notebooks/pageviews.ipynb", "{}" * 100)
    write(root / f"user/{user}/project/part-0000.parquet", "x" * 2048)
    write(root / f"user/{user}/project/part-0001.parquet", "x" * 1024)
    for n in range(60):  # a big tree: summarized per subdirectory
        write(root / f"user/{user}/.Trash/Current/f{n:02}", "t")
    write(root / f"user/hive/warehouse/{user}_scratch.db/old/part-0", "old")  # dropped long ago
    write(root / "user/hive/warehouse/team.db/shared/part-0", "keep")
    write(root / "user/elvisa/keep.txt", "another user whose name starts the same")


def host_tree(root: Path, user: str = "elvis") -> None:
    write(root / f"srv/home/{user}/.bashrc", "export PS1")
    write(root / f"srv/home/{user}/data/big.csv", "a,b\n" * 1000)
    write(root / f"var/userarchive/{user}.tar.bz2", "archive")
    write(root / "var/userarchive/elvisa.tar.bz2", "not elvis")
    write(root / "home/elvisa/.bashrc", "not elvis")
