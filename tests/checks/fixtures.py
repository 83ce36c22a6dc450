"""Fixture data for the checks: a warehouse of pageview_unexpected_values (Parquet, Hive
partition directories), an allowlist, sqoop groups, a MediaWiki history snapshot tree and a
directory of event schemas with one broken example."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ALLOWLIST = (
    "project\taa.wikibooks\t2015-10-12 00:00:00\n"
    "project\ten.wikipedia\t2015-10-12 00:00:00\n"
    "project\tfr.wikipedia\t2015-10-12 00:00:00\n"
    "agent_type\tuser\t2015-10-12 00:00:00\n"
    "access_method\tdesktop\t2015-10-12 00:00:00\n"
)
GROUPED = (
    "# dbname,group,edit size\n"
    "enwiki,1,675849233\n"
    "frwiki,2,123456789\n"
    "aawikibooks,3,1200\n"
    "tywiki,3,900\n"
)


def unexpected_values(warehouse: Path) -> None:
    """Three days of wmf.pageview_unexpected_values: azy.wikipedia and tly.wikipedia are new,
    en.wikipedia is known, 'bot2' is an agent_type, not a project."""
    rows = {
        25: [("project", "azy.wikipedia", 120), ("agent_type", "bot2", 5)],
        26: [
            ("project", "azy.wikipedia", 300),
            ("project", "tly.wikipedia", 40),
            ("project", "en.wikipedia", 7),
        ],
        27: [("project", "tly.wikipedia", 15), ("project", "zz.notawiki", 3)],
    }
    for day, values in rows.items():
        directory = (
            warehouse / "wmf.db/pageview_unexpected_values" / f"year=2026/month=11/day={day}"
        )
        directory.mkdir(parents=True, exist_ok=True)
        table = pa.table(
            {
                "field_name": [v[0] for v in values],
                "unexpected_value": [v[1] for v in values],
                "view_count": pa.array([v[2] for v in values], pa.int64()),
            }
        )
        pq.write_table(table, directory / "part-00000.parquet")


def canary_hours(warehouse: Path, hours: list[int]) -> None:
    """event.homepagevisit with events in the given hours of 2026-11-27."""
    for hour in hours:
        directory = warehouse / "event.db/homepagevisit" / f"year=2026/month=11/day=27/hour={hour}"
        directory.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"id": [hour]}), directory / "part-00000.parquet")


def snapshot_tree(hdfs: Path, snapshot: str, flags: dict[str, list[str]]) -> Path:
    base = hdfs / "wmf/data/wmf/mediawiki"
    for dataset, present in flags.items():
        directory = base / dataset / f"snapshot={snapshot}"
        directory.mkdir(parents=True, exist_ok=True)
        for flag in present:
            (directory / flag).write_text("")
    return base


COMMON = """$id: /fragment/common/1.0.0
type: object
definitions:
  meta:
    type: object
    properties:
      domain: {type: string}
      stream: {type: string}
      dt: {type: string}
      id: {type: string}
    required: [stream]
"""

HOMEPAGE = """$id: /analytics/legacy/homepagevisit/1.0.0
$schema: https://json-schema.org/draft-07/schema#
type: object
properties:
  meta:
    $ref: /fragment/common/1.0.0#/definitions/meta
  event:
    type: object
    properties:
      is_mobile: {type: boolean}
      start_tutorial_state: {type: string}
    required: [is_mobile, start_tutorial_state]
required: [meta, event]
examples:
  - meta: {stream: eventlogging_HomepageVisit, dt: "2020-04-02T19:11:20.942Z", id: b0caf18d}
    event: {is_mobile: true}
"""

NAVIGATION = """$id: /analytics/legacy/navigationtiming/1.1.0
type: object
properties:
  meta: {$ref: /fragment/common/1.0.0#/definitions/meta}
  event:
    type: object
    properties:
      responseStart: {type: integer, minimum: 0}
required: [meta]
examples:
  - meta: {stream: eventlogging_NavigationTiming, dt: "2024-01-01T00:00:00Z"}
    event: {responseStart: 12}
"""

NO_EXAMPLES = """$id: /analytics/test/noexamples/1.0.0
type: object
properties:
  meta: {$ref: /fragment/common/1.0.0#/definitions/meta}
"""

BROKEN_REF = """{"$id": "/analytics/test/brokenref/1.0.0", "type": "object",
 "properties": {"meta": {"$ref": "/fragment/missing/9.9.9#/definitions/meta"}},
 "examples": [{"meta": {"stream": "x"}}]}
"""


def schema_dir(root: Path) -> Path:
    files = {
        "fragment/common/1.0.0.yaml": COMMON,
        "analytics/legacy/homepagevisit/1.0.0.yaml": HOMEPAGE,
        "analytics/legacy/navigationtiming/1.1.0.yaml": NAVIGATION,
        "analytics/test/noexamples/1.0.0.yaml": NO_EXAMPLES,
        "analytics/test/brokenref/1.0.0.json": BROKEN_REF,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
