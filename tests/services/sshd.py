"""A throwaway OpenSSH server (Debian's openssh-server) on 127.0.0.1 with a fresh host key and
a fresh client key, for the offboarding host checks."""

from __future__ import annotations

import getpass
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

SSHD = "/usr/sbin/sshd"
CONFIG = """Port {port}
ListenAddress 127.0.0.1
HostKey {root}/host_key
PidFile {root}/sshd.pid
AuthorizedKeysFile {root}/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
LogLevel ERROR
"""


@dataclass(frozen=True)
class SshServer:
    port: int
    user: str
    client_key: Path
    known_hosts: Path


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


@contextmanager
def sshd(extra_config: str = "") -> Iterator[SshServer]:
    """A running sshd; ``extra_config``: more sshd_config lines (``SetEnv PATH=...``)."""
    if not Path(SSHD).exists() or not shutil.which("ssh-keygen"):
        missing_service("OpenSSH server (Debian package openssh-server) not found")
    root = Path(tempfile.mkdtemp(prefix="opsweek-sshd-"))
    port = free_port()
    _keygen(root / "host_key")
    _keygen(root / "client_key")
    (root / "authorized_keys").write_text((root / "client_key.pub").read_text())
    host_key = (root / "host_key.pub").read_text().split()
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    (root / "sshd_config").write_text(CONFIG.format(port=port, root=root) + extra_config)
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
    process = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(root / "sshd_config")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None:
                error = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"sshd did not start: {error}") from None
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("sshd did not start in 10 s") from None
            time.sleep(0.05)
    try:
        yield SshServer(port, getpass.getuser(), root / "client_key", root / "known_hosts")
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
