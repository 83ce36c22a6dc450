"""A throwaway MariaDB (Debian's mariadb-server) on 127.0.0.1, standing for the wiki replicas."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services.common import free_port, missing_service

MARIADBD = "/usr/sbin/mariadbd"
INSTALL = "/usr/bin/mariadb-install-db"


@dataclass(frozen=True)
class MariaDB:
    port: int

    def url(self, database: str = "") -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}"


@contextmanager
def mariadb() -> Iterator[MariaDB]:
    if not (Path(MARIADBD).exists() and Path(INSTALL).exists()):
        missing_service("MariaDB (Debian package mariadb-server) not found")
    root = Path(tempfile.mkdtemp(prefix="opsweek-mariadb-"))
    data = root / "data"
    subprocess.run(
        [
            INSTALL,
            f"--datadir={data}",
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            MARIADBD,
            "--no-defaults",
            f"--datadir={data}",
            f"--socket={root}/mysqld.sock",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            "--user=root",
            f"--pid-file={root}/pid",
            "--skip-grant-tables",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=16M",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                error = process.stderr.read().decode()[-500:] if process.stderr else ""
                raise RuntimeError(f"mariadbd did not start: {error}") from None
            time.sleep(0.1)
    try:
        yield MariaDB(port)
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
