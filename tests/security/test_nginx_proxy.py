"""The shipped deploy/nginx-opsweek.conf in front of opsweek, through Debian's real nginx with a
stand-in for the sign-on (oauth2-proxy's /oauth2/auth): a browser's form POST goes through
(opsweek sees the browser's own Host, which its Origin names), and an X-Forwarded-For the
client made up is not believed (it would choose the address logins are limited by).
Issue 29: the file broke every browser form and passed the client's own X-Forwarded-For."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.session import Store
from opsweek.passwords import set_password
from opsweek.rotation.people import PersonRecord
from opsweek.rotation.team import Team
from opsweek.sal.log import SalFilter, SalLog
from opsweek.web import create_app
from opsweek.web.login_guard import FAILURES_PER_ADDRESS
from tests.services.nginx import Nginx, nginx
from tests.services.web import serve_app

pytestmark = pytest.mark.integration
SHIPPED = Path(__file__).parents[2] / "deploy" / "nginx-opsweek.conf"


class SignOn(BaseHTTPRequestHandler):
    """oauth2-proxy as nginx's auth_request sees it: 202 and the user for a signed-on
    browser (here: the cookie _sso=<user>), 401 otherwise."""

    def do_GET(self) -> None:
        found = re.search(r"_sso=(\w+)", self.headers.get("Cookie", ""))
        self.send_response(202 if found else 401)
        if found:
            self.send_header("X-Auth-Request-User", found.group(1))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy(web_store: Store, tmp_path: Path) -> Iterator[Nginx]:
    with web_store.session() as session:
        Team(session).add(PersonRecord("ann", "Ann"))
        set_password(session, "ann", "correct horse battery")
    env = {
        **os.environ,
        "OPSWEEK_WEB_TRUSTED_HEADER": "X-Remote-User",
        "OPSWEEK_WEB_TRUSTED_PROXIES": "127.0.0.1",
        "OPSWEEK_WEB_PUBLIC_READ": "false",
    }
    sign_on = ThreadingHTTPServer(("127.0.0.1", 0), SignOn)
    threading.Thread(target=sign_on.serve_forever, daemon=True).start()
    with serve_app(create_app(App(load_settings(env=env), store=web_store))) as url:
        replace = {
            "server 127.0.0.1:8080;": f"server {url.removeprefix('http://')};",
            "http://127.0.0.1:4180": f"http://127.0.0.1:{sign_on.server_address[1]}",
        }
        with nginx(SHIPPED.read_text(), tmp_path, replace) as server:
            yield server
    sign_on.shutdown()


def test_a_browser_form_goes_through_the_proxy(proxy: Nginx, web_store: Store) -> None:
    with httpx.Client(base_url=proxy.url, verify=False, cookies={"_sso": "ann"}) as browser:
        assert browser.get("/sal").status_code == 200  # signed on: a page
        page = browser.get("/sal").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf, "no form on the page"
        sent = browser.post(
            "/sal",
            data={"message": "restarted hive-server2", "csrf": csrf.group(1)},
            headers={"Origin": proxy.url},  # as a browser sends it with a form
        )
        assert sent.status_code in (200, 303), sent.text
        other = browser.post(
            "/sal",
            data={"message": "from elsewhere", "csrf": csrf.group(1)},
            headers={"Origin": "https://evil.example.org"},
        )
        assert other.status_code == 403  # a cross-site form is still refused
    with httpx.Client(base_url=proxy.url, verify=False) as stranger:
        assert stranger.get("/sal").status_code == 401  # not signed on: the sign-on page
    with web_store.session() as session:
        messages = [e.message for e in SalLog(session).list(SalFilter())]
    assert messages == ["restarted hive-server2"]


def test_an_x_forwarded_for_the_client_made_up_is_not_believed(proxy: Nginx) -> None:
    """Failed logins are limited per address; a client naming a new address in each request
    would never reach the limit if opsweek believed it."""
    with httpx.Client(base_url=proxy.url, verify=False, cookies={"_sso": "ann"}) as client:
        answers = []
        for number in range(FAILURES_PER_ADDRESS + 1):
            page = client.get("/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert csrf
            answers.append(
                client.post(
                    "/login",
                    data={"username": f"user{number}", "password": "x", "csrf": csrf.group(1)},
                    headers={"X-Forwarded-For": f"10.0.{number}.1"},
                ).status_code
            )
    assert answers == [401] * FAILURES_PER_ADDRESS + [429]
