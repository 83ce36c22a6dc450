"""The import graph has no upward arrows: each package imports only from the layers below it
(interfaces above the composition root, above the services, above the adapters, the store and
the domain). Read from the source, every import counted, those inside functions and under
TYPE_CHECKING too. The fence has no gaps: no relative import, no import by name at run time
(but the CLI's lazy loading of its own command modules), no cycle inside a package, and no
alert row written outside `AlertChanges`; each check is shown to catch a broken copy."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable
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


# --- the fence's gaps -----------------------------------------------------------------------
DYNAMIC_ALLOWED = {"opsweek.cli"}  # loads its command modules lazily (start-up time)
ALERT_STATE = {  # what only opsweek.alerts.changes (and the intake it calls) may set
    "status",
    "acked_by",
    "acked_at",
    "resolved_by",
    "resolved_at",
    "resolution_note",
    "count",
    "fire_count",
    "last_seen",
    "flapping",
}
ALERT_WRITERS = {"opsweek.alerts.changes", "opsweek.alerts.intake", "opsweek.alerts.triage"}


def relative_imports(source: str) -> list[str]:
    tree = ast.parse(source)
    return [
        f"line {node.lineno}: from {'.' * node.level}{node.module or ''} import ..."
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]


def dynamic_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
        if name in ("import_module", "__import__"):
            found.append(f"line {node.lineno}: {name}(...)")
    return found


def alert_row_writes(source: str) -> list[str]:
    """Assignments to an alert row's state (``alert.status = ...``, ``row.count += 1``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            for target in node.targets:
                targets += target.elts if isinstance(target, ast.Tuple) else [target]
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr in ALERT_STATE
                and isinstance(target.value, ast.Name)
                and "alert" in target.value.id.lower()
            ):
                found.append(f"line {node.lineno}: {target.value.id}.{target.attr} = ...")
    return found


def module_imports(source: str, here: str, known: set[str]) -> set[str]:
    """The modules of ``known`` a module's source imports, each as the module it names
    (``from opsweek.config import areas`` is ``opsweek.config.areas``, not the package)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                names.append(child if child in known else node.module)
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != here:
                found.add(name)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    counter = itertools.count()

    def visit(node: str) -> None:
        index[node] = low[node] = next(counter)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                other = stack.pop()
                group.append(other)
                if other == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def package_graph(sources: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Each module's imports of modules of its own package."""
    pairs = list(sources)
    known = {name for name, _ in pairs}
    return {
        name: {m for m in module_imports(text, name, known) if package_of(m) == package_of(name)}
        for name, text in pairs
    }


def sources() -> list[tuple[str, str]]:
    return [(name, path.read_text(encoding="utf-8")) for name, path in modules()]


def test_no_relative_or_dynamic_import() -> None:
    wrong = [f"{name} {found}" for name, text in sources() for found in relative_imports(text)]
    wrong += [
        f"{name} {found}"
        for name, text in sources()
        if name not in DYNAMIC_ALLOWED
        for found in dynamic_imports(text)
    ]
    assert wrong == []


def test_no_cycle_inside_a_package() -> None:
    assert cycles(package_graph(sources())) == []


def test_no_alert_row_written_outside_alert_changes() -> None:
    wrong = [
        f"{name} {found}"
        for name, text in sources()
        if name not in ALERT_WRITERS
        for found in alert_row_writes(text)
    ]
    assert wrong == []


def test_each_fence_catches_a_broken_copy() -> None:
    assert relative_imports("from .changes import AlertChanges\n") != []
    assert relative_imports("from opsweek.alerts.changes import AlertChanges\n") == []
    assert dynamic_imports("import importlib\nm = importlib.import_module('opsweek.web')\n")
    assert dynamic_imports("m = __import__('opsweek.cli')\n")
    broken = [  # two modules of one package importing each other, one by a package import
        ("opsweek.alerts.a", "from opsweek.alerts import b\n"),
        ("opsweek.alerts.b", "def f():\n    from opsweek.alerts.a import x\n"),
        ("opsweek.alerts.c", "from opsweek.alerts.a import x\n"),
    ]
    assert cycles(package_graph(broken)) == [["opsweek.alerts.a", "opsweek.alerts.b"]]
    assert cycles(package_graph(broken[::2])) == []
    assert alert_row_writes("def ack(alert):\n    alert.status = 'acknowledged'\n")
    assert alert_row_writes("alert.status, alert.acked_by = 'x', 'y'\n")
    assert alert_row_writes("alert_row.count += 1\n")
    assert alert_row_writes("alert.title\nif alert.status == 'firing': pass\n") == []
