"""A throwaway ngIRCd (Debian's ngircd) on 127.0.0.1, and a minimal IRC client for tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.services.common import free_port, missing_service

CONFIG = """[Global]
Name = irc.opsweek.test
Info = opsweek test server
Listen = 127.0.0.1
Ports = {port}
MotdPhrase = opsweek tests
[Limits]
MaxConnectionsIP = 0
MaxNickLength = 30
[Options]
DNS = no
Ident = no
PAM = no
"""


class IrcServer:
    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("ngircd") or "/usr/sbin/ngircd"
        # -n: stay in the foreground, so the PID is ours (ngircd drops root to nobody)
        self.process = subprocess.Popen(
            [binary, "-n", "-f", str(self.root / "ngircd.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("ngircd did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def ngircd() -> Iterator[IrcServer]:
    if not (shutil.which("ngircd") or Path("/usr/sbin/ngircd").exists()):
        missing_service("ngIRCd (Debian package ngircd) not found")
    root = Path(tempfile.mkdtemp(prefix="opsweek-irc-"))
    port = free_port()
    (root / "ngircd.conf").write_text(CONFIG.format(port=port))
    root.chmod(0o755)
    server = IrcServer(root, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


class IrcClient:
    """Just enough IRC to join a channel, speak and read what others say."""

    def __init__(self, port: int, nick: str) -> None:
        self.nick = nick
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :{nick}")
        self.wait_for(lambda line: f" 001 {nick} " in line)

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\r\n")

    def lines(self, timeout: float) -> Iterator[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\r\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\r\n", 1)
                text = line.decode("utf-8", "replace")
                if text.startswith("PING"):
                    self.send("PONG" + text[4:])
                    continue
                yield text
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                return
            self.buffer += chunk

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 10) -> str:
        for line in self.lines(timeout):
            if condition(line):
                return line
        raise AssertionError("expected IRC line did not arrive")

    def join(self, channel: str) -> list[str]:
        """Join and return the nicks already in the channel."""
        self.send(f"JOIN {channel}")
        names: list[str] = []
        for line in self.lines(10):
            if f" 353 {self.nick} " in line:
                names += [n.lstrip("@+") for n in line.rsplit(":", 1)[1].split()]
            if f" 366 {self.nick} {channel} " in line:
                return names
        raise AssertionError(f"could not join {channel}")

    def say(self, channel: str, text: str) -> None:
        self.send(f"PRIVMSG {channel} :{text}")

    def close(self) -> None:
        try:
            self.send("QUIT :bye")
        finally:
            self.sock.close()
