"""Host checks over SSH against a real sshd on 127.0.0.1: found, removed, unreachable."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsweek.adapters.hosts import LocalHost, SshHost, hosts_from
from opsweek.errors import ConfigError, Unavailable
from opsweek.offboard.scan import Scanner
from tests.offboard.fixtures import host_tree
from tests.services.common import free_port
from tests.services.sshd import SshServer, sshd

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server() -> Iterator[SshServer]:
    with sshd() as running:
        yield running


def ssh_host(server: SshServer, root: Path, name: str = "stat1008") -> SshHost:
    return SshHost(
        name,
        f"{server.user}@127.0.0.1:{server.port}",
        timeout=10,
        key=str(server.client_key),
        known_hosts=str(server.known_hosts),
        root=str(root),
    )


def test_scan_over_ssh_in_parallel_with_an_unreachable_host(
    server: SshServer, tmp_path: Path
) -> None:
    remote, local = tmp_path / "remote", tmp_path / "local"
    host_tree(remote)
    (local / "home/elvis").mkdir(parents=True)
    unreachable = SshHost("an-launcher1002", f"nobody@127.0.0.1:{free_port()}", timeout=3)
    hosts = [ssh_host(server, remote), unreachable, LocalHost("deploy1002", str(local))]
    report = Scanner(None, hosts, None, "/user/hive/warehouse").scan("elvis")
    assert report.hosts_checked == ["stat1008", "an-launcher1002", "deploy1002"]
    found = {(h, e.path, e.type) for h, entries in report.homes.items() for e in entries}
    assert found == {
        ("stat1008", "/srv/home/elvis", "directory"),
        ("stat1008", "/var/userarchive/elvis.tar.bz2", "file"),
        ("deploy1002", "/home/elvis", "directory"),
    }
    big = next(e for e in report.homes["stat1008"] if e.path == "/srv/home/elvis")
    assert big.size >= 4000 and big.owner
    assert list(report.unreachable) == ["an-launcher1002"]
    assert report.failed  # an unreachable host makes the check incomplete (exit 2)


def test_remove_over_ssh(server: SshServer, tmp_path: Path) -> None:
    host_tree(tmp_path)
    host = ssh_host(server, tmp_path)
    asyncio.run(host.remove("/srv/home/elvis"))
    assert not (tmp_path / "srv/home/elvis").exists()
    assert (tmp_path / "home/elvisa/.bashrc").exists()


def test_wrong_host_key_is_refused(server: SshServer, tmp_path: Path) -> None:
    other = tmp_path / "known_hosts"
    other.write_text(
        f"[127.0.0.1]:{server.port} ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
    )
    host = SshHost(
        "stat1008", f"{server.user}@127.0.0.1:{server.port}", 5, str(server.client_key), str(other)
    )
    with pytest.raises(Unavailable, match="stat1008"):
        asyncio.run(host.stat(["/srv/home/elvis"], []))


def test_host_config_errors() -> None:
    with pytest.raises(ConfigError, match="either ssh or local_root"):
        hosts_from([{"name": "x"}], 5)
    with pytest.raises(ConfigError, match="user@host"):
        hosts_from([{"name": "x", "ssh": "me@:port"}], 5)
    with pytest.raises(ConfigError, match="unknown field"):
        hosts_from([{"name": "x", "local_root": "/", "colour": 1}], 5)
