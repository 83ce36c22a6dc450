"""The dumps' published status files, read over HTTP (the public dumps site or a mirror) or
from a directory or any fsspec URL laid out the same way (``<root>/index.json``,
``<root>/<wiki>/<YYYYMMDD>/dumpstatus.json``)."""

from __future__ import annotations

from fsspec.core import url_to_fs

from opsweek.errors import Unavailable

TIMEOUT = 20.0
MAX_BYTES = 16 << 20  # a status file is tens of kilobytes; anything bigger is not one


class DumpsFiles:
    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self._http = None
        if self.root.startswith(("http://", "https://")):
            import httpx

            self._http = httpx.Client(timeout=TIMEOUT, follow_redirects=True)

    def read(self, path: str) -> bytes | None:
        """The file at ``path`` under the root; None when there is none."""
        url = f"{self.root}/{path.lstrip('/')}"
        if self._http is not None:
            import httpx

            try:
                with self._http.stream("GET", url) as answer:
                    if answer.status_code == 404:
                        return None
                    answer.raise_for_status()
                    data = b""
                    for chunk in answer.iter_bytes():
                        data += chunk
                        if len(data) > MAX_BYTES:
                            raise Unavailable(f"dumps: {url} is over {MAX_BYTES} bytes")
                    return data
            except httpx.HTTPError as exc:
                raise Unavailable(f"dumps: {url}: {exc}") from None
        try:
            fs, where = url_to_fs(url)
            with fs.open(where, "rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise Unavailable(f"dumps: {url}: {exc}") from None
        if len(data) > MAX_BYTES:
            raise Unavailable(f"dumps: {url} is over {MAX_BYTES} bytes")
        return bytes(data)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
