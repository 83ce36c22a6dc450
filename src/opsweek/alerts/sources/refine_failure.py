"""Refine failure e-mails: ``Refine failures for job <job>``, one block per output table, each
failed partition on its own line, then the applicationId and the rerun command.

These mails vary in the wild: the partition spec with or without ``datacenter``, in
parentheses or after the table, with or without ``at <path>``; several tables per mail. The
partition of a failure comes from whichever is there: the spec, the input path
(``year=/month=/day=/hour=``) or the output path. A mail whose failures cannot be read is still
a Refine failure, for the tables and hours its rerun command names, with a note saying so."""

from __future__ import annotations

import itertools
import re
import shlex
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from opsweek.alerts.mail import MailMessage
from opsweek.alerts.model import ParsedAlert, clean_text, digest, expect

KIND = "refine_failure"
SUBJECT = re.compile(
    r"Refine\s+failures?\s+(?:report\s+)?for\s+(?:job\s+)?'?(?P<job>[\w.-]+)'?", re.I
)
HEADER = re.compile(
    r"Refine failures for path (?P<input>\S+) -> database (?P<db>\S+)"
    r"(?: \((?P<output>[^)]*)\))?"
)
FAILED = "Failed refinement of "
TARGET = re.compile(r"->\s*`?(?P<db>[\w-]+)`?\.`?(?P<table>[\w-]+)`?")
SPEC_PAIR = re.compile(r'(\w+)\s*=\s*"?([^",)\s]*)"?')
PATH_PARTS = re.compile(r"year=(\d{4})/month=(\d{1,2})/day=(\d{1,2})(?:/hour=(\d{1,2}))?")
APP_ID = re.compile(r"applicationId:\s*(?P<id>application_\d+_\d+)")
EXCEPTION_LIMIT = 4000
COMMAND_LIMIT = 2000
RERUN_TIME = "%Y-%m-%dT%H:00:00.000Z"


def matches(mail: MailMessage) -> bool:
    return SUBJECT.search(mail.subject) is not None


def parse(mail: MailMessage) -> list[ParsedAlert]:
    subject = expect(SUBJECT.search(mail.subject), "subject is not a Refine failure report")
    job = subject["job"]
    header = HEADER.search(mail.text)
    app_id = APP_ID.search(mail.text)
    rerun, rerun_note = rerun_section(mail.text)
    common: dict[str, Any] = {
        "job": job,
        "input_path": header["input"] if header else "",
        "output_database": header["db"] if header else "",
        "output_path": (header["output"] or "") if header else "",
        "application_id": app_id["id"] if app_id else "",
        "rerun_command": rerun[:COMMAND_LIMIT],  # as the e-mail writes it: never run
        "rerun_note": rerun_note,
    }
    group = digest(KIND, job, mail.message_id or mail.text[:2000])
    failures = failures_in(mail.text)
    if not failures:
        return [_unread(mail, job, common, group, rerun)]
    flags = rerun_flags(rerun)
    alerts = []
    for failure in failures:
        if not failure["hour"]:  # the rerun command's window says which hours, at least
            failure.update(since=flags.get("since", ""), until=flags.get("until", ""))
        when = failure["hour"] or failure["spec"]
        alerts.append(
            ParsedAlert(
                kind=KIND,
                source="refine",
                title=clean_text(f"{job}: {failure['table']} {when}"),
                fingerprint=digest(KIND, job, failure["table"], failure["key"]),
                severity="error",
                details={**common, **{k: v for k, v in failure.items() if k != "key"}},
                group_key=group,
                occurred_at=mail.date,
            )
        )
    return alerts


def _unread(
    mail: MailMessage, job: str, common: dict[str, Any], group: str, rerun: str
) -> ParsedAlert:
    """A Refine failure whose partitions could not be read: kept as what it is, with what its
    rerun command says (tables, hours) and a note, never as an unreadable input."""
    flags = rerun_flags(rerun)
    tables = flags.get("table_include_regex", "")
    since, until = flags.get("since", ""), flags.get("until", "")
    window = f"{since}..{until}" if since or until else ""
    details = {
        **common,
        "table": tables,
        "hour": "",
        "partition": {},
        "partition_path": "",
        "source_path": "",
        "exception": "",
        "since": since,
        "until": until,
        "note": "opsweek could not read the failed partitions of this e-mail; "
        "its rerun command is shown as the e-mail gives it",
    }
    return ParsedAlert(
        kind=KIND,
        source="refine",
        title=clean_text(f"{job}: {tables or 'tables not read'} {window}".strip()),
        fingerprint=digest(KIND, job, tables, window or mail.message_id or mail.text[:2000]),
        severity="error",
        details=details,
        group_key=group,
        occurred_at=mail.date,
    )


def failures_in(text: str) -> list[dict[str, Any]]:
    """Each failed partition of a Refine report, read from its ``Failed refinement of`` line
    (and the lines of its stack trace)."""
    found = []
    chunks = text.split(FAILED)[1:]
    for chunk in chunks:
        line, _, rest = chunk.partition("\n")
        while TARGET.search(line) is None and rest.strip() and line.count(" ") < 40:
            more, _, rest = rest.partition("\n")  # a line wrapped by the sender
            line = f"{line} {more.strip()}"
        target = TARGET.search(line)
        if target is None:
            continue
        source = line.split(None, 1)[0] if line.strip() else ""
        after = line[target.end() :]
        exception = ""
        if "Original exception:" in after:
            after, _, exception = after.partition("Original exception:")
        spec, at, path = after.partition(" at ")
        spec = spec.strip().strip("()").strip().rstrip(".").strip()
        path = path.strip().rstrip(".") if at else ""
        exception = _with_trace(exception.strip(), rest)
        partition = {k: v for k, v in SPEC_PAIR.findall(spec)}
        hour = _hour(partition) or _hour_of_path(source) or _hour_of_path(path)
        table = f"{target['db']}.{target['table']}"
        found.append(
            {
                "table": table,
                "spec": spec,
                "partition": partition,
                "hour": hour,
                "partition_path": path,
                "source_path": source,
                "exception": exception[:EXCEPTION_LIMIT],
                "key": _partition_key(partition, hour, spec, source),
            }
        )
    return found


def _with_trace(exception: str, following: str) -> str:
    """A stack trace may continue on the lines after the failure, up to a blank line."""
    lines = [exception] if exception else []
    for line in following.split("\n"):
        stripped = line.strip()
        if not stripped or "dataset partition" in stripped or stripped.startswith("applicationId"):
            break
        lines.append(stripped)
        if sum(len(x) for x in lines) > EXCEPTION_LIMIT:
            break
    return "\n".join(lines)


def _partition_key(partition: dict[str, str], hour: str, spec: str, source: str) -> str:
    """What identifies the failed partition, however the mail wrote it."""
    if hour:
        datacenter = partition.get("datacenter", "")
        return f"{datacenter}:{hour}" if datacenter else hour
    return spec or source


def _hour(partition: dict[str, str]) -> str:
    try:
        year, month, day = (int(partition[k]) for k in ("year", "month", "day"))
    except (KeyError, ValueError):
        return ""
    text = f"{year:04d}-{month:02d}-{day:02d}"
    if partition.get("hour", "").isdigit():
        text += f"T{int(partition['hour']):02d}"
    return text


def _hour_of_path(path: str) -> str:
    match = PATH_PARTS.search(path)
    if not match:
        return ""
    text = f"{int(match[1]):04d}-{int(match[2]):02d}-{int(match[3]):02d}"
    return text + (f"T{int(match[4]):02d}" if match[4] else "")


def rerun_window(hours: list[str]) -> tuple[str, str] | None:
    """``--since``/``--until`` covering the hours given as ``YYYY-MM-DDTHH`` (a day alone
    covers the whole day), in the form Refine's rerun command takes."""
    starts = []
    for hour in hours:
        for form, span in (("%Y-%m-%dT%H", timedelta(hours=1)), ("%Y-%m-%d", timedelta(days=1))):
            try:
                start = datetime.strptime(hour, form).replace(tzinfo=UTC)
            except ValueError:
                continue
            starts.append((start, start + span))
            break
    if not starts:
        return None
    since = min(s for s, _ in starts)
    until = max(u for _, u in starts)
    return since.strftime(RERUN_TIME), until.strftime(RERUN_TIME)


RERUN_START = re.compile(r"^[ \t>]*to re-?run\b[^\n]*", re.IGNORECASE | re.MULTILINE)
# a command line: sudo, the wrapper, the job (a word before options or a continuation), options
COMMAND_START = re.compile(r"^(?:sudo\s|kerberos-run-command\s|--[a-z]|[\w.-]+\s*(?:\\|--))")
NOTE_LIMIT = 500
USUAL_HEADER = re.compile(r"^(?:use|run|with) the following(?: options| command)?$", re.I)


def rerun_section(text: str) -> tuple[str, str]:
    """The rerun command of a Refine e-mail as one line (backslash continuations joined), and
    the note said before it: whatever follows "To rerun", one line of options (as refinery's
    own report prints them) or a note paragraph then a ``sudo … \\`` command."""
    start = RERUN_START.search(text)
    if start is None:
        return "", ""
    header = start.group(0)
    lines = text[start.end() :].split("\n")
    if "--" in header:  # the options on the line that announces them
        lines.insert(0, header[header.index("--") :])
    command: list[str] = []
    said = re.sub(r"^[\s>]*to re-?run\b", "", header.split("--", 1)[0], flags=re.I).strip(" ,:")
    note = [said] if said and not USUAL_HEADER.match(said) else []
    for line in lines:
        stripped = line.strip().lstrip(">").strip()
        if not command:
            if COMMAND_START.match(stripped):
                command.append(stripped)
            elif stripped:
                note.append(stripped)
            elif note:
                note.append("")
            continue
        if not stripped:
            break
        if command[-1].endswith("\\") or stripped.startswith("--"):
            command.append(stripped)
        else:
            break
    joined = " ".join(line.removesuffix("\\").strip() for line in command)
    return " ".join(joined.split()), clean_text(" ".join(note), NOTE_LIMIT)


def rerun_command(text: str) -> str:
    return rerun_section(text)[0]


def rerun_flags(command: str) -> dict[str, str]:
    """``--name=value`` flags of a rerun command, by name (as written, unchecked: for the
    alert's title and hours; what runs is `rerun_options`)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return {}
    flags = {}
    for word in words:
        if word.startswith("--"):
            name, _, value = word[2:].partition("=")
            flags[name] = value
    return flags


# The options Refine's rerun takes, each with the kind of value it must have. A rerun opsweek
# runs carries these only; the job, the account and the wrapper come from the settings.
REFINE_OPTIONS = {
    "since": "time",
    "until": "time",
    "table_include_regex": "regex",
    "table_exclude_regex": "regex",
    "table_whitelist_regex": "regex",  # the older Refine's names for the two above
    "table_blacklist_regex": "regex",
    "ignore_failure_flag": "boolean",
    "ignore_done_flag": "boolean",
    "dry_run": "boolean",
}
TIME = re.compile(
    r"^(?:\d{1,6}|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?)\Z"
)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
REGEX_LIMIT = 1000


@dataclass(frozen=True)
class RerunOptions:
    """What a Refine e-mail's rerun asks for: its options, checked, and the account, wrapper
    and job its command names (to compare with the settings; none of them is ever used)."""

    flags: tuple[tuple[str, str], ...] = ()
    user: str = ""
    wrapper: str = ""
    job: str = ""
    problem: str = ""  # why opsweek runs none of it

    def flag(self, name: str) -> str:
        return next((value for flag, value in self.flags if flag == name), "")


def rerun_options(command: str) -> RerunOptions:
    """The options of a Refine rerun command, each checked for its kind (a time, a regex that
    compiles, a boolean) and on one line; anything else asked for is a problem, said."""
    try:
        words = shlex.split(command)
    except ValueError as exc:
        return RerunOptions(problem=f"its words cannot be read ({exc})")
    bad = next((w for w in words if CONTROL.search(w)), None)
    if bad is not None:
        return RerunOptions(problem=f"a value holds a control character: {bad!r}")
    prefix = list(itertools.takewhile(lambda w: not w.startswith("--"), words))
    user = wrapper = job = ""
    rest = prefix
    if rest[:2] == ["sudo", "-u"] and len(rest) >= 3:
        user, rest = rest[2], rest[3:]
    if len(rest) == 3:
        wrapper, keytab, job = rest
        if user and keytab != user:
            return RerunOptions(problem=f"it runs as {user} with the keytab of {keytab}")
        user = user or keytab
    elif len(rest) == 1:
        job = rest[0]
    elif rest:
        return RerunOptions(problem=f"it asks to run {shlex.join(prefix)!r}, not a Refine job")
    flags: list[tuple[str, str]] = []
    asked = {"user": user, "wrapper": wrapper, "job": job}
    for word in words[len(prefix) :]:
        name, equals, value = word.removeprefix("--").partition("=")
        kind = REFINE_OPTIONS.get(name) if word.startswith("--") else None
        if kind is None:
            return RerunOptions(**asked, problem=f"{word!r} is not an option Refine's rerun takes")
        if any(flag == name for flag, _ in flags):
            return RerunOptions(**asked, problem=f"--{name} is given twice")
        if not equals and kind == "boolean":
            value = "true"
        reason = _invalid(kind, value)
        if reason:
            return RerunOptions(**asked, problem=f"--{name}: {reason}")
        flags.append((name, value.lower() if kind == "boolean" else value))
    return RerunOptions(tuple(flags), **asked)


def _invalid(kind: str, value: str) -> str:
    if kind == "boolean":
        return "" if value.lower() in ("true", "false") else f"{value!r} is not true or false"
    if kind == "time":
        if not TIME.match(value):
            return f"{value!r} is not a time (ISO 8601, or hours ago)"
        try:
            date.fromisoformat(value[:10]) if "-" in value else None
        except ValueError:
            return f"{value!r} is not a date"
        return ""
    if not value or len(value) > REGEX_LIMIT:
        return "an empty or too long regex"
    try:
        re.compile(value)
    except re.error as exc:
        return f"{value!r} is not a regex ({exc})"
    return ""
