"""Turning files, directories, mbox and maildir folders, and stdin into raw inputs.
Containers are split so that every e-mail, webhook body or log line is kept on its own."""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from opsweek.alerts.formats import ALERTMANAGER, AUTO, EMAIL, LOG, MAILDIR, MBOX
from opsweek.alerts.model import RawInput
from opsweek.alerts.sources.canary_failure import recognises as is_canary_line
from opsweek.errors import BadInput

HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]{0,60}:[ \t]")
MBOX_SEPARATOR = re.compile(rb"^From \S+", re.MULTILINE)


def detect(data: bytes) -> str:
    head = data.lstrip()[:4096]
    if head.startswith(b"{") or head.startswith(b"["):
        return ALERTMANAGER
    if data.startswith(b"From ") and b"\n" in head:
        return MBOX
    if HEADER_LINE.match(head) and re.search(
        rb"^(Subject|From|Received|Date):", head, re.MULTILINE | re.IGNORECASE
    ):
        return EMAIL
    return LOG


def from_bytes(data: bytes, fmt: str, received_at: datetime, origin: str) -> Iterator[RawInput]:
    kind = detect(data) if fmt == AUTO else fmt
    if kind == MBOX:
        yield from _split_mbox(data, received_at, origin)
    elif kind == LOG:
        for number, line in enumerate(data.splitlines(), start=1):
            if is_canary_line(line.decode("utf-8", errors="replace")):
                yield RawInput(line, LOG, received_at, f"{origin}:{number}")
    elif kind in (EMAIL, ALERTMANAGER):
        yield RawInput(data, kind, received_at, origin)
    else:
        raise BadInput(f"unknown format {fmt!r}")


def _split_mbox(data: bytes, received_at: datetime, origin: str) -> Iterator[RawInput]:
    starts = [m.start() for m in MBOX_SEPARATOR.finditer(data)] or [0]
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(data)
        chunk = data[start:end]
        body = chunk.split(b"\n", 1)[1] if chunk.startswith(b"From ") else chunk
        body = re.sub(rb"^>(>*From )", rb"\1", body, flags=re.MULTILINE)  # mboxrd unquoting
        if body.strip():
            yield RawInput(body, EMAIL, received_at, f"{origin}#{index + 1}")


def from_path(path: Path, fmt: str, received_at: datetime) -> Iterator[RawInput]:
    if not path.exists():
        raise BadInput(f"{path} does not exist")
    if path.is_dir():
        if fmt == MAILDIR or (fmt == AUTO and (path / "cur").is_dir() and (path / "new").is_dir()):
            box = mailbox.Maildir(path, create=False)
            for key in sorted(box.keys()):
                yield RawInput(box.get_bytes(key), EMAIL, received_at, f"{path}/{key}")
            return
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            yield from from_path(child, fmt, received_at)
        return
    if fmt == MAILDIR:
        raise BadInput(f"{path} is not a maildir directory")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    yield from from_bytes(data, fmt, received_at, str(path))
