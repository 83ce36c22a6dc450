"""JSON as the store writes it (the `JSON` columns' serializer), and JSON text encoded already.

An alert parsed in a web worker reaches the intake hub with its details encoded by the worker
(`opsweek.alerts.wire`): decoding them there only to encode them again took a tenth of the
hub's time. Wrapped in `JSONText`, the store writes them as they are."""

from __future__ import annotations

from typing import Any

import orjson


class JSONText(str):
    """A value already encoded as JSON (by `encode_json`): the store writes it unchanged."""


def encode_json(value: Any) -> str:
    """``value`` as the store's JSON text; `JSONText` as it is."""
    if isinstance(value, JSONText):
        return value
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
