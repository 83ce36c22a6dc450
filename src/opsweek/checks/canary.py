"""Canary events, checked before the canary job fails: every stream's canary event is built as
the producer builds it (the schema's first example, meta.domain=canary, meta.stream, no
meta.dt) and validated with the schema (draft-07); errors are reported the way EventGate does.
Schemas without examples, examples failing their own schema and broken $refs are found too."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT7

from opsweek.alerts.sources.opsweek_check import finding
from opsweek.errors import BadInput

SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class Schema:
    id: str  # $id, e.g. /analytics/legacy/homepagevisit/1.0.0
    path: str
    document: dict[str, Any]

    @property
    def title(self) -> str:
        """The schema title: the $id without its version."""
        return (
            self.id.strip("/").rsplit("/", 1)[0] if self.id.count("/") > 1 else self.id.strip("/")
        )


@dataclass
class StreamResult:
    stream: str
    schema: str
    status: str  # ok, invalid, no examples, example invalid, broken schema
    errors: list[dict[str, Any]] = field(default_factory=list)
    event: dict[str, Any] | None = None

    @property
    def errors_text(self) -> str:
        return ", ".join(f"'{e['dataPath']}' {e['message']}" for e in self.errors)

    def as_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "schema": self.schema,
            "status": self.status,
            "errors": self.errors,
            "errorsText": self.errors_text,
        }


def load_schemas(directory: Path) -> tuple[dict[str, Schema], list[str]]:
    """Every schema file under ``directory`` by $id; problems (unreadable files) as lines."""
    if not directory.is_dir():
        raise BadInput(f"{directory} is not a directory of schemas")
    schemas: dict[str, Schema] = {}
    problems = []
    for path in sorted(p for p in directory.rglob("*") if p.suffix in SUFFIXES and p.is_file()):
        try:
            text = path.read_text(encoding="utf-8")
            document = json.loads(text) if path.suffix == ".json" else yaml.load(text, YAML_LOADER)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            problems.append(f"{path}: cannot be read: {str(exc).splitlines()[0]}")
            continue
        if not isinstance(document, dict):
            problems.append(f"{path}: not a schema (not an object)")
            continue
        schema_id = str(
            document.get("$id") or "/" + path.relative_to(directory).with_suffix("").as_posix()
        )
        schemas[schema_id] = Schema(schema_id, str(path), document)
    return schemas, problems


YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
META = Draft7Validator(Draft7Validator.META_SCHEMA)  # checks schemas; built once


def _refs(node: Any) -> Iterator[str]:
    """The documents a schema refers to (the part of each $ref before '#')."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            yield ref.split("#", 1)[0]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _registry(schema: Schema, schemas: Mapping[str, Schema]) -> Registry:
    """A registry with the schema and what it refers to, transitively: small, so building a
    validator stays cheap however many schemas there are."""
    resources, todo, seen = [], [schema], set()
    while todo:
        current = todo.pop()
        if current.id in seen:
            continue
        seen.add(current.id)
        resources.append((current.id, Resource(contents=current.document, specification=DRAFT7)))
        for ref in _refs(current.document):
            target = schemas.get(ref) or schemas.get(ref.rstrip("/"))
            if target is not None:
                todo.append(target)
    return Registry().with_resources(resources)


def canary_event(example: Mapping[str, Any], stream: str) -> dict[str, Any]:
    event = copy.deepcopy(dict(example))
    meta = dict(event.get("meta") or {})
    meta.pop("dt", None)
    meta["domain"] = "canary"
    meta["stream"] = stream
    event["meta"] = meta
    return event


def _data_path(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def ajv_error(error: ValidationError) -> dict[str, Any]:
    """A jsonschema error in the shape EventGate (AJV) reports it."""
    keyword = str(error.validator)
    params: dict[str, Any] = {}
    data_path = _data_path(error.absolute_path)
    value = error.validator_value
    if keyword == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        params = {"missingProperty": missing}
        message = f"should have required property '{missing}'"
    elif keyword == "type":
        params = {"type": value}
        message = f"should be {value if isinstance(value, str) else ','.join(value)}"
    elif keyword == "enum":
        params = {"allowedValues": value}
        message = "should be equal to one of the allowed values"
    elif keyword == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        params = {"additionalProperty": extra[0] if extra else ""}
        message = "should NOT have additional properties"
    elif keyword == "pattern":
        params = {"pattern": value}
        message = f'should match pattern "{value}"'
    elif keyword == "format":
        params = {"format": value}
        message = f'should match format "{value}"'
    elif keyword in ("minimum", "maximum"):
        comparison = ">=" if keyword == "minimum" else "<="
        params = {"comparison": comparison, "limit": value}
        message = f"should be {comparison} {value}"
    elif keyword in ("minLength", "maxLength"):
        params = {"limit": value}
        word = "shorter" if keyword == "minLength" else "longer"
        message = f"should NOT be {word} than {value} characters"
    else:
        message = error.message
    schema_path = "#/" + "/".join(str(p) for p in error.absolute_schema_path)
    return {
        "keyword": keyword,
        "dataPath": data_path,
        "schemaPath": schema_path,
        "params": params,
        "message": message,
    }


def _validate(validator: Draft7Validator, event: Mapping[str, Any]) -> list[dict[str, Any]]:
    errors = sorted(validator.iter_errors(event), key=lambda e: (list(e.absolute_path), e.message))
    return [ajv_error(e) for e in errors]


def check_streams(schemas: Mapping[str, Schema], streams: Mapping[str, str]) -> list[StreamResult]:
    """For each stream (name -> schema $id or title; the newest version of a title), its
    canary event checked against its schema."""
    by_title: dict[str, list[Schema]] = {}
    for schema in schemas.values():
        by_title.setdefault(schema.title, []).append(schema)
    results = []
    for stream, wanted in sorted(streams.items()):
        schema = schemas.get(wanted) or schemas.get("/" + wanted.strip("/"))
        if schema is None and wanted.strip("/") in by_title:
            schema = max(by_title[wanted.strip("/")], key=lambda s: _version(s.id))
        if schema is None:
            results.append(
                StreamResult(stream, wanted, "broken schema", [_plain(f"no schema {wanted}")])
            )
            continue
        results.append(_check(stream, schema, _registry(schema, schemas)))
    return results


def _version(schema_id: str) -> tuple[int, ...]:
    last = schema_id.rsplit("/", 1)[-1]
    return tuple(int(p) for p in last.split(".") if p.isdigit()) or (0,)


def _plain(message: str) -> dict[str, Any]:
    return {"keyword": "schema", "dataPath": "", "schemaPath": "", "params": {}, "message": message}


def _check(stream: str, schema: Schema, registry: Registry) -> StreamResult:
    examples = schema.document.get("examples")
    if not isinstance(examples, list) or not examples or not isinstance(examples[0], dict):
        return StreamResult(
            stream,
            schema.id,
            "no examples",
            [_plain("the schema has no examples: no canary event can be made")],
        )
    try:
        problem = next(iter(META.iter_errors(schema.document)), None)
        if problem is not None:
            return StreamResult(
                stream, schema.id, "broken schema", [_plain(f"invalid schema: {problem.message}")]
            )
        validator = Draft7Validator(schema.document, registry=registry)
        own = _validate(validator, examples[0])
        event = canary_event(examples[0], stream)
        errors = _validate(validator, event)
    except Unresolvable as exc:
        return StreamResult(
            stream, schema.id, "broken schema", [_plain(f"unresolvable $ref: {exc.ref}")]
        )
    except Exception as exc:  # a schema that is itself invalid
        first = str(exc).splitlines()[0]
        return StreamResult(stream, schema.id, "broken schema", [_plain(first)])
    if own:
        return StreamResult(stream, schema.id, "example invalid", own, event)
    return StreamResult(stream, schema.id, "invalid" if errors else "ok", errors, event)


def read_streams(path: Path) -> dict[str, str]:
    """A streams file: a mapping of stream name to its schema title (or $id), or to an object
    with ``schema_title`` as in the stream configuration."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise BadInput(f"{path}: cannot be read: {str(exc).splitlines()[0]}") from None
    if isinstance(data, dict) and isinstance(data.get("streams"), dict):
        data = data["streams"]
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a mapping of stream name to schema title")
    streams = {}
    for name, value in data.items():
        title = value.get("schema_title") if isinstance(value, dict) else value
        if not isinstance(title, str) or not title:
            raise BadInput(f"{path}: stream {name!r} names no schema_title")
        streams[str(name)] = title
    return streams


def interpret_post(status: int, body: Any) -> tuple[bool, str]:
    """What an intake service (EventGate) answer means: (success, summary)."""
    if status in (201, 202):
        return True, "accepted" if status == 201 else "accepted (hasty)"
    invalid = body.get("invalid", []) if isinstance(body, dict) else []
    errored = body.get("error", []) if isinstance(body, dict) else []
    texts = [
        str(
            (entry.get("context") or {}).get("errorsText")
            or (entry.get("context") or {}).get("message")
            or ""
        )
        for entry in invalid + errored
        if isinstance(entry, dict)
    ]
    detail = "; ".join(t for t in texts if t)
    if status == 207:
        return False, f"partly accepted: {len(invalid)} invalid, {len(errored)} errored: {detail}"
    if status == 400:
        return False, f"all invalid: {detail}"
    if status == 500:
        return False, f"all failed: {detail or 'server error'}"
    return False, f"unexpected HTTP {status}"


def findings(results: list[StreamResult]) -> list[bytes]:
    found = []
    for result in results:
        bad = result.status != "ok"
        found.append(
            finding(
                "canary",
                "canary_schema_problem",
                f"canary {result.stream}: {result.status}: {result.errors_text}"[:300],
                f"canary {result.stream}",
                {
                    "stream": result.stream,
                    "schema": result.schema,
                    "status": result.status,
                    "errorsText": result.errors_text,
                },
                severity="error" if result.status in ("invalid", "example invalid") else "warning",
                resolved=not bad,
            )
        )
    return found


def missing_hours(warehouse: Any, table: str, day: Any, last_hour: int = 23) -> list[int]:
    """Hours of ``day`` (0..last_hour) in which a stream's hourly-partitioned table has no
    event at all: the hours whose partitions cannot be known complete."""
    t = warehouse.table(table)
    of_day = t.filter((t.year == day.year) & (t.month == day.month) & (t.day == day.day))
    expr = of_day.group_by(of_day.hour).aggregate(events=of_day.count())
    present = {int(row["hour"]) for row in expr.to_pyarrow().to_pylist() if row["events"]}
    return [hour for hour in range(last_hour + 1) if hour not in present]
