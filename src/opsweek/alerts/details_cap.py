"""What one alert may keep of its input (pure): its details, at most DETAILS_LIMIT bytes of
JSON. Longer texts and lists are cut, with a marker saying how much was left out; the raw input
keeps everything. Details that cannot be stored as JSON at all (nested deeper than the
encoder goes, say) are reported, so the input is kept as an unparsed one instead."""

from __future__ import annotations

from typing import Any

import orjson

from opsweek.jsontext import encode_json

DETAILS_LIMIT = 32 * 1024  # bytes of JSON per alert
TEXT_LIMIT = 4000  # characters of one text value, once the details are too large
LIST_LIMIT = 50  # items of one list, once the details are too large
DEPTH_LIMIT = 32


class NotStorable(ValueError):
    """Details that cannot be stored as JSON."""


def capped(details: dict[str, Any], limit: int = DETAILS_LIMIT) -> dict[str, Any]:
    """``details`` as the store will keep them (plain JSON values) when their JSON fits
    ``limit``, else cut down until it does (texts, then lists, shortened; at last only the
    keys' names). Raises NotStorable."""
    encoded = _encoded(details)
    size = len(encoded)
    if size <= limit:
        return orjson.loads(encoded)
    for text_limit, list_limit in ((TEXT_LIMIT, LIST_LIMIT), (500, 10), (100, 3)):
        smaller = _cut(details, text_limit, list_limit, 0)
        smaller["truncated"] = f"details cut from {size} bytes; the raw input has them all"
        encoded = _encoded(smaller)
        if len(encoded) <= limit:
            return orjson.loads(encoded)
    return {
        "truncated": f"details of {size} bytes left out; the raw input has them all",
        "keys": sorted(str(k) for k in details)[:100],
    }


def _encoded(value: Any) -> str:
    try:
        return encode_json(value)
    except (TypeError, ValueError, orjson.JSONEncodeError) as exc:
        raise NotStorable(f"details cannot be stored as JSON: {exc}") from None


def _cut(value: Any, text_limit: int, list_limit: int, depth: int) -> Any:
    if depth > DEPTH_LIMIT:
        return "… (nested too deep)"
    if isinstance(value, str) and len(value) > text_limit:
        return value[:text_limit] + f"… ({len(value) - text_limit} more characters)"
    if isinstance(value, list | tuple):
        kept = [_cut(v, text_limit, list_limit, depth + 1) for v in value[:list_limit]]
        if len(value) > list_limit:
            kept.append(f"… ({len(value) - list_limit} more)")
        return kept
    if isinstance(value, dict):
        items = list(value.items())
        kept_items = {
            str(k): _cut(v, text_limit, list_limit, depth + 1) for k, v in items[: list_limit * 4]
        }
        if len(items) > list_limit * 4:
            kept_items["…"] = f"{len(items) - list_limit * 4} more keys"
        return kept_items
    return value
