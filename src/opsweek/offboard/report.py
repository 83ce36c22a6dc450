"""The scan as Markdown, to paste into the tracker task as the runbook asks."""

from __future__ import annotations

from opsweek.offboard.scan import ScanReport


def size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def to_markdown(report: ScanReport) -> str:
    out = [f"== Leftovers of {report.user} ({report.scanned_at:%Y-%m-%d %H:%M} UTC) ==", ""]
    out.append(f"**Home directories** (hosts checked: {', '.join(report.hosts_checked) or 'none'})")
    if not report.homes:
        out.append("- none found")
    for host, entries in sorted(report.homes.items()):
        for e in entries:
            out.append(f"- {host}: `{e.path}` ({e.type}, {size(e.size)}, owner {e.owner})")
    for host, reason in sorted(report.unreachable.items()):
        out.append(f"- {host}: **not checked**: {reason}")
    out += ["", "**HDFS**"]
    home = report.hdfs_home
    if home and home.exists:
        out.append(f"- `{home.path}`: {home.files} files, {size(home.size)}")
        for e in home.entries[:20]:
            files = f", {e.files} files" if e.type == "summary" else ""
            out.append(f"  - `{e.path}` ({e.type}{files}, {size(e.size)}, owner {e.owner})")
        if len(home.entries) > 20:
            out.append(f"  - … {len(home.entries) - 20} more")
    else:
        out.append(f"- `/user/{report.user}`: not there")
    for w in report.warehouse_dirs:
        if w.exists:
            out.append(f"- `{w.path}`: {w.files} files, {size(w.size)}")
    out += ["", "**Hive**"]
    if not report.databases and not report.owned_elsewhere:
        out.append("- no database named after the user, no table owned by the user")
    for d in report.databases:
        out.append(f"- database `{d.name}` ({len(d.tables)} tables, location {d.location})")
        for t in d.tables:
            where = "" if t.in_warehouse else " — **data outside the warehouse**"
            out.append(
                f"  - `{t.table.qualified}` {t.table.type.lower()}, owner {t.table.owner}, "
                f"{t.files} files, {size(t.size)}, {t.table.location}{where}"
            )
    for t in report.owned_elsewhere:
        where = "" if t.in_warehouse else " — **data outside the warehouse**"
        out.append(
            f"- `{t.table.qualified}` owned by {report.user} in a database of others "
            f"({t.table.type.lower()}, {t.table.location}){where}: needed by others? transfer it"
        )
    for check, errors in sorted(report.errors.items()):
        for error in errors:
            out.append(f"- **{check} check failed**: {error}")
    return "\n".join(out) + "\n"
