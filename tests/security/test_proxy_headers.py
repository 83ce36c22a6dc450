"""The SSO header (web.trusted_header) is believed only from a connection whose own address is
a trusted proxy: X-Forwarded-For cannot claim that address."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.security.serving import opsweek, serve

pytestmark = pytest.mark.slow


def logged_in(page: str) -> bool:
    return "log out" in page


def test_x_forwarded_for_cannot_borrow_a_trusted_proxys_address(tmp_path: Path) -> None:
    opsweek(tmp_path, "team", "add", "alice")
    env = {
        "OPSWEEK_WEB_TRUSTED_HEADER": "X-Remote-User",
        "OPSWEEK_WEB_TRUSTED_PROXIES": "10.20.30.40",
    }
    with serve(tmp_path, env) as served:
        spoofed = {
            "X-Forwarded-For": "10.20.30.40",
            "X-Real-IP": "10.20.30.40",
            "Forwarded": "for=10.20.30.40",
            "X-Remote-User": "alice",
        }
        page = httpx.get(f"{served.url}/", headers=spoofed).text
        assert not logged_in(page)
        refused = httpx.post(
            f"{served.url}/sal", data={"message": "as alice", "csrf": "x"}, headers=spoofed
        )
        assert refused.status_code in (401, 403)
        assert "as alice" not in opsweek(tmp_path, "sal", "list")


def test_the_trusted_header_from_a_trusted_proxy_works(tmp_path: Path) -> None:
    """The control: from an address that is a trusted proxy, the header logs alice in."""
    opsweek(tmp_path, "team", "add", "alice")
    env = {
        "OPSWEEK_WEB_TRUSTED_HEADER": "X-Remote-User",
        "OPSWEEK_WEB_TRUSTED_PROXIES": "127.0.0.1",
    }
    with serve(tmp_path, env) as served:
        assert logged_in(httpx.get(f"{served.url}/", headers={"X-Remote-User": "alice"}).text)
        assert not logged_in(httpx.get(f"{served.url}/", headers={"X-Remote-User": "mallory"}).text)
