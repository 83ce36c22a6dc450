"""A metastore that cannot be reached is reported by the Hive check; the other checks run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.offboard.fixtures import hdfs_tree, host_tree
from tests.services.common import free_port, missing_service

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_unreachable_metastore(cli: Cli, tmp_path: Path) -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing_service("pyspark (the spark extra) is not installed")
    hdfs_tree(tmp_path / "hdfs")
    host_tree(tmp_path / "host")
    config = tmp_path / "opsweek.toml"
    config.write_text(
        f'[files]\nroot = "{(tmp_path / "hdfs").as_uri()}"\n'
        f'[hive]\nmetastore_uri = "thrift://127.0.0.1:{free_port()}"\n'
        f'metastore_dir = "{tmp_path / "metastore"}"\n'
        f'[[hosts]]\nname = "stat1008"\nlocal_root = "{tmp_path / "host"}"\n'
    )
    result = cli("--config", config, "offboard", "check", "elvis", "--json")
    assert result.exit_code == 2  # a check failed
    homes, hdfs, hive = result.json()["checks"]
    assert homes["found"] and hdfs["found"]  # the other checks still ran
    assert hive["errors"] and hive["errors"][0].startswith("metastore:")
    assert len(hive["errors"][0]) < 500
