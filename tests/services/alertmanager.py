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
def alertmanager(
    webhook_url: str,
    token: str,
    port: int | None = None,
    cluster_port: int | None = None,
    peers: tuple[int, ...] = (),
) -> Iterator[str]:
    """One Alertmanager; with ``cluster_port``, a member of a cluster gossiping on loopback
    with the members at ``peers`` (an HA pair: silences made on one reach the other)."""
    binary = next((found for name in BINARIES if (found := shutil.which(name))), None)
    if binary is None:
        missing_service("Alertmanager (Debian package prometheus-alertmanager) not found")
    root = Path(tempfile.mkdtemp(prefix="opsweek-am-"))
    (root / "alertmanager.yml").write_text(config(webhook_url, token))
    port = port or free_port()
    cluster = (
        [
            f"--cluster.listen-address=127.0.0.1:{cluster_port}",
            "--cluster.advertise-address=127.0.0.1:" + str(cluster_port),
            "--cluster.gossip-interval=100ms",
            "--cluster.pushpull-interval=1s",
            "--cluster.settle-timeout=1s",
            *(f"--cluster.peer=127.0.0.1:{peer}" for peer in peers),
        ]
        if cluster_port
        else ["--cluster.listen-address="]
    )
    log = (root / "log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={root / 'alertmanager.yml'}",
            f"--storage.path={root}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--web.external-url=http://127.0.0.1:{port}",
            *cluster,
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


@contextmanager
def alertmanager_pair(webhook_url: str, token: str) -> Iterator[tuple[str, str]]:
    """Two Alertmanagers clustered on loopback, both sending to ``webhook_url``."""
    first, second = free_port(), free_port()
    with (
        alertmanager(webhook_url, token, cluster_port=first, peers=(second,)) as one,
        alertmanager(webhook_url, token, cluster_port=second, peers=(first,)) as two,
    ):
        yield one, two


def get(url: str, path: str) -> object:
    with urllib.request.urlopen(f"{url}/api/v2{path}", timeout=5) as response:
        return json.loads(response.read())


def post_alerts(url: str, alerts: list[dict[str, object]]) -> None:
    request = urllib.request.Request(
        f"{url}/api/v2/alerts",
        data=json.dumps(alerts).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
