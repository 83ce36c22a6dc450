"""Setting up the demo in the configured store and data directory: what `opsweek demo` and
`opsweek serve --demo` do."""

from __future__ import annotations

from pathlib import Path

from opsweek.app import App
from opsweek.demo.checks import seed_checks
from opsweek.demo.offboard import seed_hive, seed_offboard
from opsweek.demo.seed import DemoResult, reset, seed
from opsweek.demo.train import seed_train
from opsweek.timeutil import utcnow


def load_demo(ops: App, reset_first: bool = False) -> DemoResult:
    """Seed the demo data into the configured store (nothing happens if data exists)."""
    with ops.store.writing() as session:
        if reset_first:
            reset(session)
        return seed(ops.alert_changes, session, ops.rotation_config, utcnow(), duties=ops.duty_book)


def write_demo_config(ops: App, hive: bool) -> Path:
    """The demo's deployment train, offboarding and checks (git repositories, files, a host,
    and Hive tables when asked), with the settings pointing at them in <data_dir>/demo.toml."""
    settings = ops.settings
    data = settings.data_dir
    sections = [
        "# opsweek demo: the deployment train and a departed user to offboard.\n"
        "# Use it with: opsweek --config THIS-FILE train status | offboard check elvis\n"
    ]
    train = seed_train(data / "demo-train")
    if train:
        sections.append(train)
    root = Path(ops.files.real("/"))
    sections.append(seed_offboard(root, data / "demo-hosts"))
    sections.append(
        seed_checks(
            root,
            settings.hive.warehouse_dir,
            settings.checks.mw_history_dir,
            data / "demo-checks",
            utcnow().astimezone(ops.timezone).date(),
        )
    )
    if hive:
        seed_hive(ops.files, settings.hive.warehouse_dir, settings.hive.metastore_dir)
    path = data / "demo.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(sections), encoding="utf-8")
    return path
