"""Demo data for the daily checks: a small pageview_unexpected_values table with two new
wikis, an allowlist and sqoop groups, last month's MediaWiki history snapshot, and a schema
directory where one stream's example misses a required field."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from opsweek.checks.mw_history import DATASETS, FLAGS, REDUCED, expected_snapshot

ALLOWLIST = (
    "".join(
        f"project\t{p}\t2015-10-12 00:00:00\n"
        for p in ("aa.wikibooks", "de.wikipedia", "en.wikipedia", "es.wikipedia", "fr.wikipedia")
    )
    + "agent_type\tuser\t2015-10-12 00:00:00\naccess_method\tdesktop\t2015-10-12 00:00:00\n"
)
GROUPED = (
    "# dbname,group,edit size\n"
    "enwiki,1,675849233\ndewiki,1,201238944\nfrwiki,2,190442316\neswiki,2,120032271\n"
    "aawikibooks,3,1200\n"
)
SCHEMAS = {
    "fragment/common/1.0.0.yaml": (
        "$id: /fragment/common/1.0.0\ntype: object\ndefinitions:\n  meta:\n    type: object\n"
        "    properties:\n      stream: {type: string}\n      domain: {type: string}\n"
        "      dt: {type: string}\n    required: [stream]\n"
    ),
    "analytics/legacy/homepagevisit/1.0.0.yaml": (
        "$id: /analytics/legacy/homepagevisit/1.0.0\ntype: object\nproperties:\n"
        "  meta: {$ref: /fragment/common/1.0.0#/definitions/meta}\n  event:\n    type: object\n"
        "    properties:\n      is_mobile: {type: boolean}\n"
        "      start_tutorial_state: {type: string}\n"
        "    required: [is_mobile, start_tutorial_state]\nrequired: [meta, event]\nexamples:\n"
        "  - meta: {stream: eventlogging_HomepageVisit, dt: '2020-04-02T19:11:20.942Z'}\n"
        "    event: {is_mobile: true}\n"
    ),
    "analytics/legacy/navigationtiming/1.1.0.yaml": (
        "$id: /analytics/legacy/navigationtiming/1.1.0\ntype: object\nproperties:\n"
        "  meta: {$ref: /fragment/common/1.0.0#/definitions/meta}\n  event:\n    type: object\n"
        "    properties:\n      responseStart: {type: integer, minimum: 0}\nrequired: [meta]\n"
        "examples:\n  - meta: {stream: eventlogging_NavigationTiming}\n"
        "    event: {responseStart: 12}\n"
    ),
}
STREAMS = (
    "streams:\n"
    "  eventlogging_HomepageVisit: {schema_title: analytics/legacy/homepagevisit}\n"
    "  eventlogging_NavigationTiming: {schema_title: analytics/legacy/navigationtiming}\n"
)


def seed_checks(
    hdfs_root: Path, warehouse: str, mw_history_dir: str, root: Path, today: date
) -> str:
    """Write the demo data; return the settings that point the checks at it (TOML)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = hdfs_root / warehouse.lstrip("/") / "wmf.db/pageview_unexpected_values"
    values = [
        [("project", "azy.wikipedia", 212), ("project", "en.wikipedia", 3)],
        [("project", "azy.wikipedia", 380), ("project", "tly.wikipedia", 57)],
    ]
    for offset, rows in zip((2, 1), values, strict=True):
        day = today - timedelta(days=offset)
        directory = table / f"year={day.year}/month={day.month}/day={day.day}"
        directory.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            pa.table(
                {
                    "field_name": [r[0] for r in rows],
                    "unexpected_value": [r[1] for r in rows],
                    "view_count": pa.array([r[2] for r in rows], pa.int64()),
                }
            ),
            directory / "part-00000.parquet",
        )
    snapshot = expected_snapshot(today)
    base = hdfs_root / mw_history_dir.lstrip("/")
    for dataset in DATASETS:
        directory = base / dataset / f"snapshot={snapshot}"
        directory.mkdir(parents=True, exist_ok=True)
        for flag in FLAGS:
            (directory / flag).write_text("")
    reduced = base / REDUCED / f"snapshot={snapshot}"
    reduced.mkdir(parents=True, exist_ok=True)
    (reduced / "_SUCCESS").write_text("")
    root.mkdir(parents=True, exist_ok=True)
    (root / "allowlist.tsv").write_text(ALLOWLIST)
    (root / "grouped_wikis.csv").write_text(GROUPED)
    for name, text in SCHEMAS.items():
        path = root / "schemas" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "streams.yaml").write_text(STREAMS)
    return (
        f'[checks]\nallowlist = "{root / "allowlist.tsv"}"\n'
        f'grouped_wikis = "{root / "grouped_wikis.csv"}"\n'
        f"# opsweek check canary --schemas {root / 'schemas'} --streams {root / 'streams.yaml'}\n"
    )
