"""A request's Host (or X-Forwarded-Host, Forwarded) header must not reach a page another
reader gets from the page cache: links are root-relative, built from no header."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

HOSTILE = [
    {"host": "evil.example"},
    {"x-forwarded-host": "evil.example", "x-forwarded-proto": "https"},
    {"forwarded": "host=evil.example;proto=https"},
]
PAGES = ["/", "/inbox", "/sal", "/rotation", "/handoff", "/login"]


@pytest.mark.parametrize("headers", HOSTILE)
def test_a_hostile_host_does_not_poison_pages_for_others(
    client: TestClient, headers: dict[str, str]
) -> None:
    for path in PAGES:
        poisoned = client.get(path, headers=headers)
        assert poisoned.status_code == 200, path
        assert "evil.example" not in poisoned.text, path  # not even for the one who sent it
        plain = client.get(path)
        assert "evil.example" not in plain.text, path
        assert 'src="/static/htmx/htmx.min.js"' in plain.text


def test_links_are_root_relative_under_a_prefix(client: TestClient) -> None:
    page = client.get("/inbox", headers={"host": "evil.example"}).text
    assert 'href="/static/style.css"' in page
    assert 'href="/inbox"' in page and "http://" not in page.split("<main>", 1)[0]
