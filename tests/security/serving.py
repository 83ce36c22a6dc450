"""`opsweek serve` as a real process on a loopback port, for attacks that need the real
server (uvicorn's header handling, workers, signals)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services.common import free_port, wait_until_ready


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def serve(
    data_dir: Path, env: Mapping[str, str] = {}, workers: int = 1, port: int | None = None
) -> Iterator[Served]:
    port = port or free_port()
    log = data_dir / f"serve-{port}.log"
    environment = {
        **os.environ,
        "OPSWEEK_DATA_DIR": str(data_dir),
        "OPSWEEK_CHECKS_INTERVAL_MINUTES": "0",
        "OPSWEEK_CONFIG": "",
        **env,
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "opsweek",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{url}/healthz", process, lambda: log.read_text()[-3000:], timeout=60)
        yield Served(url, process, log)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def opsweek(data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "opsweek", *args],
        env={**os.environ, "OPSWEEK_DATA_DIR": str(data_dir), "OPSWEEK_CONFIG": ""},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout
