"""A real Prometheus Alertmanager (Debian's prometheus-alertmanager) on 127.0.0.1, with one
webhook receiver."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.services.common import free_port, missing_service, wait_until_ready

BINARIES = ("prometheus-alertmanager", "alertmanager")


def config(webhook_url: str, token: str) -> str:
    return f"""
route:
  receiver: opsweek
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: opsweek
    webhook_configs:
      - url: {webhook_url}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
"""


@contextmanager
def alertmanager(webhook_url: str, token: str) -> Iterator[str]:
    binary = next((found for name in BINARIES if (found := shutil.which(name))), None)
    if binary is None:
        missing_service("Alertmanager (Debian package prometheus-alertmanager) not found")
    root = Path(tempfile.mkdtemp(prefix="opsweek-am-"))
    (root / "alertmanager.yml").write_text(config(webhook_url, token))
    port = free_port()
    log = (root / "log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={root / 'alertmanager.yml'}",
            f"--storage.path={root}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{url}/-/ready", process, lambda: (root / "log").read_text()[-2000:])
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def post_alerts(url: str, alerts: list[dict[str, object]]) -> None:
    request = urllib.request.Request(
        f"{url}/api/v2/alerts",
        data=json.dumps(alerts).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
