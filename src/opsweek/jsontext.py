"""JSON as the store writes it: the serializer of the `JSON` columns, also used to measure an
alert's details before they are stored."""

from __future__ import annotations

from typing import Any

import orjson


def encode_json(value: Any) -> str:
    """``value`` as the store's JSON text (keys that are not text become text)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
