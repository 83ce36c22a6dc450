"""One wiki page through the MediaWiki Action API (mwclient), logged in with a bot password:
read its text with the revision it came from, save a new text on top of that revision.
A save on top of a revision that is no longer the newest is an ``EditConflict`` (the wiki
says so, or the page was created meanwhile), never a silent overwrite."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from opsweek import __version__
from opsweek.errors import ConfigError
from opsweek.sal.publish import EditConflict, Revision, Saved, WikiUnavailable

USER_AGENT = f"opsweek/{__version__} (SAL publisher; https://github.com/opsweek/opsweek)"
CONFLICTS = frozenset({"editconflict", "articleexists"})
SETTLE_SECONDS = 2  # MediaWiki tells edits apart by their timestamps, in whole seconds


class MediaWikiPage:
    def __init__(
        self, api_url: str, title: str, user: str, password: str, timeout: float = 30
    ) -> None:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"sal.wiki_api must be the URL of api.php, not {api_url!r}")
        path, _, script = parts.path.rpartition("/")
        if script != "api.php":
            raise ConfigError(f"sal.wiki_api must end in /api.php, not {api_url!r}")
        if not title.strip():
            raise ConfigError("sal.wiki_page is not set")
        self.scheme, self.host, self.path = parts.scheme, parts.netloc, path + "/"
        self.title, self.user, self.password, self.timeout = title, user, password, timeout
        self._site: Any = None
        self._lock = threading.Lock()  # serve's publisher and sync share the login

    def read(self, to_edit: bool = True) -> Revision:
        """The newest revision. ``to_edit``: MediaWiki finds an edit conflict by comparing
        timestamps in whole seconds, so an edit saved in the same second as the revision read
        would pass unseen; a revision younger than that (by the wiki's clock) is read again
        once it is old enough."""
        data = self._query(curtimestamp=1)
        revision = self._revision(data)
        if to_edit and revision.revid:
            age = _seconds(data["curtimestamp"]) - _seconds(revision.timestamp)
            if age < SETTLE_SECONDS:
                time.sleep(SETTLE_SECONDS - age)
                revision = self._revision(self._query())
        return revision

    def revision(self, revid: int) -> Revision:
        return self._revision(self._query(revids=revid))

    def _query(self, **params: Any) -> dict[str, Any]:
        if "revids" not in params:
            params["titles"] = self.title
        return self._call(
            "GET",
            "query",
            prop="revisions",
            rvprop="ids|timestamp|content",
            rvslots="main",
            formatversion="2",
            **params,
        )

    @staticmethod
    def _revision(data: dict[str, Any]) -> Revision:
        page = data["query"]["pages"][0]
        if page.get("missing") or not page.get("revisions"):
            return Revision("", 0, "")
        newest = page["revisions"][0]
        return Revision(newest["slots"]["main"]["content"], newest["revid"], newest["timestamp"])

    def save(self, text: str, base: Revision, summary: str) -> int:
        """Save ``text`` on top of ``base``; the new revision's id."""
        edit: dict[str, Any] = {"title": self.title, "text": text, "summary": summary}
        if base.revid:
            edit |= {"baserevid": base.revid, "basetimestamp": base.timestamp, "nocreate": 1}
        else:
            edit["createonly"] = 1
        if self.user:
            edit["assert"] = "user"
        try:
            data = self._call("POST", "edit", bot=1, formatversion="2", **edit)
        except WikiUnavailable as exc:
            if getattr(exc.__cause__, "code", None) in CONFLICTS:
                raise EditConflict(str(exc)) from exc
            raise
        result = data.get("edit", {})
        if result.get("result") != "Success":
            raise WikiUnavailable(f"the wiki did not save {self.title!r}: {result}")
        if result.get("nochange"):
            return Saved(base.revid, base.revid, base.timestamp)
        return Saved(result["newrevid"], result.get("oldrevid", 0), result["newtimestamp"])

    def _call(self, method: str, action: str, **params: Any) -> dict[str, Any]:
        """One API call, logged in first when needed (an edit with a fresh CSRF token)."""
        from mwclient.errors import MwClientError
        from requests import RequestException

        try:
            with self._lock:
                site = self._connected()
                if action == "edit":
                    params["token"] = site.get_token("csrf")
                return site.api(action, http_method=method, **params)
        except (MwClientError, RequestException, ValueError) as exc:
            if getattr(exc, "code", None) not in CONFLICTS:
                self._site = None  # log in again next time: the session may be what failed
            raise WikiUnavailable(f"{action} on {self.host}: {_why(exc)}") from exc

    def _connected(self) -> Any:
        if self._site is not None:
            return self._site
        import mwclient

        site = mwclient.Site(
            self.host,
            path=self.path,
            scheme=self.scheme,
            clients_useragent=USER_AGENT,
            max_retries=1,
            retry_timeout=1,
            connection_options={"timeout": self.timeout},
            force_login=bool(self.user),
        )
        if self.user:
            site.login(self.user, self.password)
        self._site = site
        return site


def _seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def _why(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    if code:
        return f"{code}: {getattr(exc, 'info', '')}"
    return f"{type(exc).__name__}: {exc}"[:300]
