"""A throwaway MediaWiki (Debian's mediawiki package) on 127.0.0.1: installed with
maintenance/install.php on SQLite into a temporary directory, served by PHP's built-in server,
with a bot password for opsweek and a second user who edits the page by hand."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.services.common import free_port, missing_service, wait_until_ready

MEDIAWIKI = Path("/usr/share/mediawiki")
ADMIN_PASSWORD = "Admin-pass-" + secrets.token_hex(8)
GRANTS = "basic,editpage,createeditmovepage,highvolume"


class Wiki:
    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.api_url = f"http://127.0.0.1:{port}/api.php"
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {**os.environ, "MW_CONFIG_FILE": str(root / "LocalSettings.php")}

    def php(self, script: str, *args: str) -> str:
        done = subprocess.run(
            ["php", str(MEDIAWIKI / "maintenance" / script), *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{script} failed: {done.stdout[-500:]} {done.stderr[-500:]}")
        return done.stdout

    def install(self) -> None:
        (self.root / "data").mkdir()
        self.php(
            "install.php",
            "--dbtype=sqlite",
            f"--dbpath={self.root / 'data'}",
            "--dbname=wiki",
            f"--confpath={self.root}",
            f"--server=http://127.0.0.1:{self.port}",
            "--scriptpath=",
            f"--pass={ADMIN_PASSWORD}",
            "SAL test wiki",
            "Admin",
        )

    def bot_password(self, user: str = "Admin", app: str = "opsweek") -> tuple[str, str]:
        """A bot password as Special:BotPasswords makes one: (``User@app``, 32 characters)."""
        password = secrets.token_hex(16)
        self.php("createBotPassword.php", f"--appid={app}", f"--grants={GRANTS}", user, password)
        return f"{user}@{app}", password

    def add_user(self, name: str) -> str:
        password = f"{name}-pass-" + secrets.token_hex(8)
        self.php("createAndPromote.php", name, password)
        return password

    def start(self) -> None:
        env = {**self.env, "PHP_CLI_SERVER_WORKERS": "4"}
        self.process = subprocess.Popen(
            ["php", "-S", f"127.0.0.1:{self.port}", "-t", str(MEDIAWIKI)],
            env=env,
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its workers are stopped with it, as a group
        )
        wait_until_ready(
            self.api_url + "?action=query&meta=siteinfo&format=json",
            self.process,
            lambda: "the wiki did not start",
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)

    def site(self, user: str, password: str) -> Any:
        """An mwclient session as ``user`` (someone editing the page by hand)."""
        import mwclient

        site = mwclient.Site(f"127.0.0.1:{self.port}", path="/", scheme="http")
        site.login(user, password)
        return site


@contextmanager
def mediawiki() -> Iterator[Wiki]:
    if not (MEDIAWIKI / "maintenance" / "install.php").exists() or not shutil.which("php"):
        missing_service("MediaWiki (Debian packages mediawiki, php-sqlite3) not found")
    root = Path(tempfile.mkdtemp(prefix="opsweek-wiki-"))
    wiki = Wiki(root, free_port())
    try:
        wiki.install()
        wiki.start()
        yield wiki
    finally:
        wiki.stop()
        shutil.rmtree(root, ignore_errors=True)
