"""Prometheus's HTTP API: the current value of an expression (``/api/v1/query``)."""

from __future__ import annotations

import httpx

from opsweek.errors import Unavailable

TIMEOUT = 10.0


class Prometheus:
    def __init__(self, url: str, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(timeout=TIMEOUT, transport=transport)

    def query(self, expression: str) -> list[tuple[str, float]]:
        """The expression's value now: one (labels, value) per series, labels as
        ``{a="b"}`` ("" for a scalar)."""
        try:
            answer = self._http.get(f"{self.url}/api/v1/query", params={"query": expression})
            body = answer.json()
        except httpx.HTTPError as exc:
            raise Unavailable(f"prometheus: {exc}") from None
        except ValueError:
            raise Unavailable(f"prometheus: HTTP {answer.status_code}, not JSON") from None
        if body.get("status") != "success":
            raise Unavailable(f"prometheus: {body.get('errorType')}: {body.get('error')}")
        data = body.get("data") or {}
        kind, result = data.get("resultType"), data.get("result")
        if kind == "scalar" and isinstance(result, list):
            return [("", _number(result[1]))]
        if kind == "vector" and isinstance(result, list):
            return [(_labels(s.get("metric") or {}), _number(s["value"][1])) for s in result]
        raise Unavailable(f"prometheus: a {kind} result: give an instant expression")

    def close(self) -> None:
        self._http.close()


def _labels(metric: dict[str, str]) -> str:
    shown = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{metric.get('__name__', '')}{{{shown}}}" if shown else metric.get("__name__", "")


def _number(text: object) -> float:
    """A sample value as Prometheus writes it: a number, ``NaN``, ``+Inf`` or ``-Inf``."""
    try:
        return float(str(text))
    except ValueError:
        raise Unavailable(f"prometheus: {text!r} is not a number") from None
