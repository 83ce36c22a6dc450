"""The import graph has no upward arrows: each package imports only from the layers below it
(interfaces above the composition root, above the services, above the adapters, the store and
the domain). Read from the source, every import counted, those inside functions and under
TYPE_CHECKING too."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "opsweek"

# bottom first; a package may import from the layers before its own, never after
LAYERS: list[set[str]] = [
    {"opsweek", "errors"},
    {"timeutil", "quoting", "steps", "site", "jsontext", "charts"},  # plain values
    {"config"},
    {"db"},
    {"sal"},  # the log every change writes to: it knows no service
    {"rotation"},
    {"passwords", "tokens"},
    {"alerts"},
    {"adapters"},  # outside systems; they speak the alert model (RawInput)
    {"watch"},  # the tracker's and the chat's last readings
    {"duties"},
    {"offboard", "onboard"},  # offboarding opens its duty
    {"handoff"},
    {"checks"},
    {"app"},  # the composition root
    {"doctor"},  # tries what the root builds
    {"demo"},
    {"web", "bot"},  # interfaces
    {"server"},
    {"cli"},
    {"__main__"},
]
LAYER_OF = {package: number for number, layer in enumerate(LAYERS) for package in layer}
CLI_SHARED = {"output", "state", "rotation_views"}  # what command modules may share


def package_of(module: str) -> str:
    """``opsweek.alerts.intake`` -> ``alerts``; ``opsweek`` -> ``opsweek``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name == "opsweek" or name.startswith("opsweek.")}


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        relative = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        found.append((name, path))
    return found


def test_every_package_has_a_layer() -> None:
    packages = {package_of(name) for name, _ in modules()}
    assert packages - set(LAYER_OF) == set(), "put the new package in LAYERS"


def test_no_import_points_up_or_sideways() -> None:
    wrong = []
    for name, path in modules():
        here = package_of(name)
        for imported in imports(path):
            there = package_of(imported)
            if there == here or (there, imported) == ("opsweek", "opsweek"):
                continue
            if imported.startswith("opsweek.") and there not in LAYER_OF:
                continue  # a name imported from the package root (``from opsweek import x``)
            if LAYER_OF[there] >= LAYER_OF[here]:
                wrong.append(f"{name} imports {imported}")
    assert wrong == []


def test_cli_command_modules_do_not_import_each_other() -> None:
    wrong = []
    for name, path in modules():
        if not name.startswith("opsweek.cli.") or name.split(".")[-1] in CLI_SHARED:
            continue
        for imported in imports(path):
            if imported.startswith("opsweek.cli.") and imported.split(".")[2] not in CLI_SHARED:
                wrong.append(f"{name} imports {imported}")
    assert wrong == []


def test_alert_state_changes_only_through_alert_changes() -> None:
    """The intake's storing is reached through `opsweek.alerts.changes` alone (which holds the
    writing lock), and no module outside it writes history or alert rows by hand."""
    wrong = []
    for name, path in modules():
        if name in ("opsweek.alerts.changes", "opsweek.alerts.intake"):
            continue
        if "opsweek.alerts.intake.Intake" in imports(path):
            wrong.append(f"{name} imports the intake's storing")
        text = path.read_text(encoding="utf-8")
        for write in (
            "AlertEvent(",
            "insert(Alert",
            "update(Alert",
            "insert(ALERTS",
            "update(ALERTS",
        ):
            if write in text and name != "opsweek.db.models":
                wrong.append(f"{name} writes alerts itself: {write}")
    assert wrong == []
