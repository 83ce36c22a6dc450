"""The offboarding plan (pure): ordered steps with the runbook's own commands, built from a
scan, the paths to archive and the tables to hand to someone else. Archives come before the
removal of what they archive; dropping a database is followed by removing its warehouse
directory (dropping does not delete external data); tables others need are transferred, never
dropped. A plan is checked again before it runs, so a hand-edited one cannot reach outside the
user's own places."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from opsweek.errors import BadInput
from opsweek.offboard.rules import (
    check_user,
    inside,
    is_user_database,
    normal,
    removable_hdfs,
    removable_host_path,
)
from opsweek.offboard.scan import ScanReport, TableFinding
from opsweek.quoting import Unquotable, shell_join, shell_word, sql_identifier
from opsweek.site import DEFAULT_SITE, Site
from opsweek.timeutil import iso

AS_HDFS = ("sudo", "-u", "hdfs", "kerberos-run-command", "hdfs")
ACTIONS = (
    "transfer_owner",
    "archive_mkdir",
    "archive_move",
    "archive_chown",
    "drop_database",
    "remove_hdfs",
    "remove_home",
)
DESTRUCTIVE = {"archive_move", "drop_database", "remove_hdfs", "remove_home"}
PLAN_VERSION = 1
Fingerprint = Callable[[str, Sequence[str]], str]


@dataclass(frozen=True)
class Step:
    number: int
    action: str
    target: str  # an HDFS path, a database, db.table, or a host path
    command: str  # what a person would run, as the runbook writes it
    args: dict[str, Any] = field(default_factory=dict)
    expect: str = ""  # fingerprint at planning time of what the step removes or moves

    @property
    def destructive(self) -> bool:
        return self.action in DESTRUCTIVE


@dataclass(frozen=True)
class Plan:
    user: str
    created_at: str
    created_by: str
    warehouse: str
    archive_dir: str
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "version": PLAN_VERSION,
            "user": self.user,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "warehouse": self.warehouse,
            "archive_dir": self.archive_dir,
            "steps": [asdict(s) for s in self.steps],
            "notes": list(self.notes),
        }

    def script(self, site: Site = DEFAULT_SITE) -> str:
        """The plan as a script a person can read and review, in one section per host it
        runs on (HDFS and Hive from the launcher; the home directories from cumin's host)."""
        lines = [
            f"# Offboarding {self.user}: planned {self.created_at} by {self.created_by}",
            "# Review every line. `opsweek offboard execute PLAN --yes` runs it step by step,",
            "# re-checking before each removal that nothing changed since this plan was made.",
            "# Each section runs on the host its heading names, not where you are.",
        ]
        host = ""
        for step in self.steps:
            if step_host(step.action, site) != host:
                host = step_host(step.action, site)
                lines += ["", f"# --- on {host}: {HOST_ROLES[step.action == 'remove_home']} ---"]
            lines.append(f"# {step.number}. {step.action} {step.target}")
            lines.append(step.command)
        if self.notes:
            lines += ["", "# Left in place (review by hand):"]
            lines += [f"#  - {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


HOST_ROLES = {
    False: "HDFS and Hive, as hdfs with its keytab (sudo -u hdfs kerberos-run-command hdfs)",
    True: "cumin runs the removal on every host of its query, as root",
}


def step_host(action: str, site: Site) -> str:
    """Where a step of a plan runs: cumin's host for the home directories, else the
    launcher (the hdfs account's keytab is there)."""
    return site.cumin if action == "remove_home" else site.launcher


def hdfs_command(*words: str) -> str:
    """``hdfs dfs ...`` as the hdfs superuser, as the runbook runs it (from an-launcher1002)."""
    return shell_join((*AS_HDFS, "hdfs", "dfs", *words))


def hive_command(sql: str) -> str:
    """Hive SQL run as the hdfs superuser: the statement is one shell word, so backquoted
    names stay names (inside double quotes a shell would run them as commands)."""
    return shell_join((*AS_HDFS, "hive", "-e", sql))


def _sql_name(name: str) -> str:
    try:
        return sql_identifier(name)
    except Unquotable as exc:
        raise BadInput(f"cannot plan for a Hive name that is not plain: {exc}") from None


NO_TABLES = "(no tables)"  # what a database without tables is expected to hold


def command_for(action: str, target: str, args: Mapping[str, Any]) -> str:
    """The command a step runs, as the runbook writes it: made from the step's action, target
    and arguments only, so a plan's text can never say something else than what runs."""
    if action == "transfer_owner":
        database, table = _sql_name(str(args["database"])), _sql_name(str(args["table"]))
        owner = check_user(str(args["owner"]))
        return hive_command(f"ALTER TABLE {database}.{table} SET OWNER USER {owner};")
    if action == "archive_mkdir":
        return hdfs_command("-mkdir", "-p", target)
    if action == "archive_move":
        return hdfs_command("-mv", target, f"{normal(str(args['destination']))}/")
    if action == "archive_chown":
        return hdfs_command("-chown", "-R", str(args["owner"]), target)
    if action == "drop_database":
        return hive_command(f"DROP DATABASE {_sql_name(target)} CASCADE;")
    if action == "remove_hdfs":
        return hdfs_command("-rm", "-r", target)
    if action == "remove_home":
        return shell_join(("sudo", "cumin", str(args["cumin"]), f"rm -rf {shell_word(target)}"))
    raise BadInput(f"unknown action {action!r}")


def _transfer(table: TableFinding, owner: str) -> dict[str, Any]:
    t = table.table
    return {"database": t.database, "table": t.name, "owner": owner}


def build_plan(
    report: ScanReport,
    archives: Sequence[str],
    transfers: Mapping[str, str],
    *,
    archive_dir: str,
    archive_owner: str,
    cumin_hosts: str,
    created_by: str,
    created_at: datetime,
    fingerprint: Fingerprint,
) -> Plan:
    """``fingerprint(path, exclude)`` describes the files under an HDFS path, leaving out the
    subtrees archived first; the executor compares it again before removing the path."""
    user = report.user
    steps: list[tuple[str, str, dict[str, Any], str]] = []  # action, target, args, expect
    notes: list[str] = []

    # 1. transfers: tables others need get a new owner, before anything is dropped
    owned = {t.table.qualified: t for t in report.owned_elsewhere}
    in_user_dbs = {t.table.qualified for d in report.databases for t in d.tables}
    for qualified, owner in sorted(transfers.items()):
        if qualified in in_user_dbs:
            raise BadInput(
                f"{qualified} is in {user}'s own database, which is dropped: move it to a team "
                "database first (CREATE TABLE ... AS SELECT), then transfer that"
            )
        if qualified not in owned:
            raise BadInput(f"{qualified} is not a table owned by {user} (see offboard check)")
        check_user(owner)
        steps.append(("transfer_owner", qualified, _transfer(owned[qualified], owner), ""))
    for qualified, table in sorted(owned.items()):
        if qualified not in transfers:
            notes.append(
                f"{qualified} ({table.table.type.lower()}) is owned by {user} in a database of "
                f"others: transfer it with --transfer {qualified}=NEW_OWNER"
            )

    # 2. archives, before anything they archive is removed. The home archived whole moves as
    # the runbook moves it (`-mv /user/<user> <archive_dir>/`), becoming <archive_dir>/<user>;
    # anything else goes into that directory.
    archive_root = posixpath.join(normal(archive_dir), user)
    home = f"/user/{user}"
    archived: list[str] = []
    for raw in archives:
        path = normal(raw)
        if not removable_hdfs(user, path, report.warehouse):
            raise BadInput(
                f"cannot archive {path}: only /user/{user} and the warehouse directories of "
                f"{user}'s databases are archived"
            )
        archived.append(path)
    if archived:
        archived.sort(key=lambda p: p != home)  # the whole home first: it makes the directory
        if archived[0] != home:
            steps.append(("archive_mkdir", archive_root, {}, ""))
        for path in archived:
            into = normal(archive_dir) if path == home else archive_root
            steps.append(("archive_move", path, {"destination": into}, fingerprint(path, ())))
        steps.append(("archive_chown", archive_root, {"owner": archive_owner}, ""))

    def archived_whole(path: str) -> bool:
        return any(inside(path, a) for a in archived)

    def removal(path: str) -> tuple[str, str, dict[str, Any], str]:
        exclude = sorted(a for a in archived if inside(a, path))
        args = {"exclude": exclude} if exclude else {}
        return ("remove_hdfs", path, args, fingerprint(path, exclude))

    # 3. the user's databases, each followed by its warehouse directory
    removed_dirs: set[str] = set()
    for database in report.databases:
        names = ",".join(sorted(t.table.name for t in database.tables)) or NO_TABLES
        steps.append(("drop_database", database.name, {}, names))
        directory = posixpath.join(report.warehouse, f"{database.name}.db")
        summary = next((w for w in report.warehouse_dirs if w.path == directory), None)
        if summary and summary.exists and not archived_whole(directory):
            steps.append(removal(directory))
            removed_dirs.add(directory)
        for table in database.tables:
            path = table.hdfs_path
            if table.table.type == "EXTERNAL" and not (
                path and (inside(path, directory) or inside(path, f"/user/{user}"))
            ):
                notes.append(
                    f"external table {table.table.qualified} keeps its data at "
                    f"{table.table.location}: dropping the database leaves it; review it"
                )
    for summary in report.warehouse_dirs:  # directories of databases dropped earlier
        if summary.exists and summary.path not in removed_dirs and not archived_whole(summary.path):
            steps.append(removal(summary.path))

    # 4. the HDFS home, unless archived as a whole
    if report.hdfs_home and report.hdfs_home.exists and not archived_whole(home):
        steps.append(removal(home))

    # 5. home directories on the hosts, with the runbook's cumin command
    by_path: dict[str, dict[str, str]] = {}
    for host, entries in sorted(report.homes.items()):
        for entry in entries:
            by_path.setdefault(entry.path, {})[host] = entry.fingerprint
    for path, hosts in sorted(by_path.items()):
        steps.append(
            (
                "remove_home",
                path,
                {"hosts": sorted(hosts), "cumin": cumin_hosts},
                ";".join(f"{h}={fp}" for h, fp in sorted(hosts.items())),
            )
        )
    if report.unreachable:
        notes.append("hosts not scanned (unreachable): " + ", ".join(sorted(report.unreachable)))

    plan = Plan(
        user=user,
        created_at=iso(created_at),
        created_by=created_by,
        warehouse=report.warehouse,
        archive_dir=normal(archive_dir),
        steps=tuple(
            Step(number, action, target, command_for(action, target, args), args, expect)
            for number, (action, target, args, expect) in enumerate(steps, start=1)
        ),
        notes=tuple(notes),
    )
    check_plan(plan)
    return plan


def plan_from_json(data: Mapping[str, Any]) -> Plan:
    """A plan read back from its JSON file, checked before anything runs."""
    try:
        if data.get("version") != PLAN_VERSION:
            raise BadInput(f"unsupported plan version {data.get('version')!r}")
        plan = Plan(
            user=str(data["user"]),
            created_at=str(data["created_at"]),
            created_by=str(data["created_by"]),
            warehouse=str(data["warehouse"]),
            archive_dir=str(data["archive_dir"]),
            steps=tuple(
                Step(
                    int(s["number"]),
                    str(s["action"]),
                    str(s["target"]),
                    str(s["command"]),
                    dict(s.get("args") or {}),
                    str(s.get("expect", "")),
                )
                for s in data["steps"]
            ),
            notes=tuple(str(n) for n in data.get("notes", [])),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadInput(f"not an opsweek offboarding plan: {exc}") from None
    check_plan(plan)
    return plan


def _archived_into_root(step: Step, user: str, archive_root: str) -> bool:
    """An archive move lands in the user's archive directory: into it, or (the whole home,
    as the runbook moves it) into its parent under the user's own name."""
    destination = normal(str(step.args.get("destination", "")))
    if destination == archive_root:
        return True
    return normal(step.target) == f"/user/{user}" and posixpath.join(destination, user) == (
        archive_root
    )


def check_plan(plan: Plan) -> None:
    """Refuse a plan that would remove anything outside the user's own places."""
    user = check_user(plan.user)
    archive_root = posixpath.join(normal(plan.archive_dir), user)
    numbers = [s.number for s in plan.steps]
    if numbers != list(range(1, len(plan.steps) + 1)):
        raise BadInput("plan steps must be numbered 1, 2, 3... in order")
    for step in plan.steps:
        where = f"step {step.number} ({step.action} {step.target})"
        if step.action not in ACTIONS:
            raise BadInput(f"{where}: unknown action")
        if step.action in ("archive_move", "remove_hdfs") and not removable_hdfs(
            user, step.target, plan.warehouse
        ):
            raise BadInput(
                f"{where}: refusing to touch {step.target}: outside /user/{user} "
                f"and {user}'s warehouse databases"
            )
        if step.action == "archive_move" and not _archived_into_root(step, user, archive_root):
            raise BadInput(f"{where}: archives go to {archive_root}")
        if (
            step.action in ("archive_mkdir", "archive_chown")
            and normal(step.target) != archive_root
        ):
            raise BadInput(f"{where}: archives go to {archive_root}")
        if step.action == "drop_database" and not is_user_database(user, step.target):
            raise BadInput(f"{where}: refusing to drop a database not named after {user}")
        if step.action == "remove_home" and not removable_host_path(user, step.target):
            raise BadInput(f"{where}: refusing to remove {step.target} on a host")
        if step.action == "transfer_owner":
            if is_user_database(user, str(step.args.get("database", ""))):
                raise BadInput(f"{where}: tables of {user}'s own databases are not transferred")
            check_user(str(step.args.get("owner", "")))
        try:
            runs = command_for(step.action, step.target, step.args)
        except (KeyError, BadInput) as exc:
            raise BadInput(f"{where}: its arguments are not those of its action ({exc})") from None
        if step.command != runs:
            raise BadInput(f"{where}: its command is not what the step runs ({runs}); plan again")
        if step.destructive and not step.expect:
            raise BadInput(
                f"{where}: no record of what it removes (expect), so it cannot be re-checked"
            )
    moved = [s for s in plan.steps if s.action == "archive_move"]
    for removal in (s for s in plan.steps if s.action == "remove_hdfs"):
        for move in moved:
            if inside(move.target, removal.target) and move.number > removal.number:
                raise BadInput(
                    f"step {move.number} archives {move.target} after step {removal.number} "
                    f"removes {removal.target}"
                )


def check_against_settings(
    plan: Plan, archive_dir: str, archive_owner: str, cumin_hosts: str
) -> None:
    """Refuse a plan whose archive place or owner, or the hosts it removes home directories
    on, are not the configured ones (a plan file is hand-editable: it must not move data,
    give it, or remove anything, elsewhere)."""
    if normal(plan.archive_dir) != normal(archive_dir):
        raise BadInput(
            f"the plan archives to {plan.archive_dir}, not offboard.archive_dir ({archive_dir})"
        )
    for step in plan.steps:
        if step.action == "archive_chown" and step.args.get("owner") != archive_owner:
            raise BadInput(
                f"step {step.number} gives the archive to {step.args.get('owner')}, not "
                f"offboard.archive_owner ({archive_owner})"
            )
        if step.action == "remove_home" and step.args.get("cumin") != cumin_hosts:
            raise BadInput(
                f"step {step.number} removes {step.target} on the hosts "
                f"{step.args.get('cumin')!r}, not offboard.cumin_hosts ({cumin_hosts!r})"
            )
