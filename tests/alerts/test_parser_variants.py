"""Parsers degrade, they don't give up: the same real mails and payloads, re-wrapped and
re-encoded as mail systems do (quoted-printable at any column, CRLF or LF, blocks in another
order, optional parts left out), give the same alerts."""

from __future__ import annotations

import email
import email.policy
import json
import quopri
import random
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from opsweek.alerts.formats import ALERTMANAGER, EMAIL
from opsweek.alerts.model import UNPARSED, RawInput
from opsweek.alerts.parse import parse_raw
from tests.alerts.helpers import ALERT_FIXTURES

NOW = datetime(2024, 1, 12, 20, 0, tzinfo=UTC)


def mail(
    headers: dict[str, str],
    body: str,
    *,
    qp_width: int | None,
    crlf: bool,
    received: list[str] | tuple[str, ...] = (),
) -> bytes:
    """A mail as a sender may make it: the body quoted-printable, soft-wrapped at
    ``qp_width`` columns (or 7bit), lines ending in CRLF or LF."""
    head = dict(headers)
    if qp_width is None:
        payload = body.encode("utf-8")
        head["Content-Transfer-Encoding"] = "7bit"
    else:
        payload = _qp(body.encode("utf-8"), qp_width)
        head["Content-Transfer-Encoding"] = "quoted-printable"
    lines = [f"Received: {' '.join(str(r).split())}\n" for r in received]
    lines += [f"{k}: {v}\n" for k, v in head.items()]
    text = "".join(lines).encode() + b"\n" + payload
    text = text.replace(b"\r\n", b"\n")
    return text.replace(b"\n", b"\r\n") if crlf else text


def _qp(data: bytes, width: int) -> bytes:
    """Quoted-printable with soft line breaks every ``width`` characters."""
    encoded = quopri.encodestring(data)
    lines = []
    for line in encoded.split(b"\n"):
        while len(line) > width:
            cut = width - 1
            while cut > 1 and b"=" in line[cut - 2 : cut]:  # never split an =XX escape
                cut -= 1
            lines.append(line[:cut] + b"=")
            line = line[cut:]
        lines.append(line)
    return b"\n".join(lines)


def alerts_of(content: bytes) -> list[tuple[str, str, str]]:
    result = parse_raw(RawInput(content, EMAIL, NOW))
    assert result.error is None, result.error
    return sorted(
        (a.kind, a.details.get("table", ""), a.details.get("hour", "")) for a in result.alerts
    )


REFINE_HEADERS = {
    "From": "Refinery <noreply@wikimedia.org>",
    "To": "data-engineering-alerts@lists.wikimedia.org",
    "Subject": "Refine failures for job refine_event",
    "Date": "Tue, 02 Jan 2024 05:12:44 +0000",
    "Message-ID": "<1704172364.refine_event.17@an-launcher1002.eqiad.wmnet>",
    "MIME-Version": "1.0",
    "Content-Type": "text/plain; charset=UTF-8",
}
FAILED = (
    "\torg.wikimedia.analytics.refinery.job.refine.RefineTargetException: Failed refinement of "
    "hdfs://analytics-hadoop/wmf/data/raw/event/eqiad.{raw}/year=2024/month=01/day=02/hour=0{h} "
    "-> `event`.`{table}`{spec}{at}. Original exception: java.io.IOException: Filesystem closed"
)
TABLES = {"mediawiki_foo": [3, 4], "navigationtiming": [3]}
EXPECTED = [
    ("refine_failure", "event.mediawiki_foo", "2024-01-02T03"),
    ("refine_failure", "event.mediawiki_foo", "2024-01-02T04"),
    ("refine_failure", "event.navigationtiming", "2024-01-02T03"),
]
RERUN = (
    "To rerun, use the following options:\n\n"
    "sudo -u analytics kerberos-run-command analytics \\\n"
    "refine_event \\\n"
    "--ignore_failure_flag=true \\\n"
    "--table_include_regex='mediawiki_foo|navigationtiming' \\\n"
    "--since='2024-01-02T03:00:00.000Z' \\\n"
    "--until='2024-01-02T05:00:00.000Z'\n"
)


def refine_body(datacenter: bool, parens: bool, at: bool, order: list[str]) -> str:
    blocks = []
    for table in order:
        hours = TABLES[table]
        lines = [
            f"The following {len(hours)} of 3 dataset partitions for output table "
            f"`event`.`{table}` failed refinement:"
        ]
        for hour in hours:
            pairs = (['datacenter="eqiad"'] if datacenter else []) + [
                "year=2024",
                "month=1",
                "day=2",
                f"hour={hour}",
            ]
            spec = ",".join(pairs)
            spec = f" ({spec})" if parens else f" {spec}"
            where = (
                f" at /wmf/data/event/{table}/datacenter=eqiad/year=2024/month=1/day=2/hour={hour}"
                if at
                else ""
            )
            lines.append(FAILED.format(raw=table, h=hour, table=table, spec=spec, at=where))
        blocks.append("\n".join(lines))
    return (
        "Refine failures for path /wmf/data/raw/event -> database event (/wmf/data/event)\n\n"
        + "\n\n".join(blocks)
        + "\n\napplicationId: application_1700000000000_12345\n\n"
        + RERUN
    )


@given(
    datacenter=st.booleans(),
    parens=st.booleans(),
    at=st.booleans(),
    order=st.permutations(list(TABLES)),
    qp_width=st.none() | st.integers(20, 76),
    crlf=st.booleans(),
)
def test_refine_mails_as_they_vary_give_the_same_alerts(
    datacenter: bool, parens: bool, at: bool, order: list[str], qp_width: int | None, crlf: bool
) -> None:
    content = mail(
        REFINE_HEADERS, refine_body(datacenter, parens, at, order), qp_width=qp_width, crlf=crlf
    )
    assert alerts_of(content) == EXPECTED
    result = parse_raw(RawInput(content, EMAIL, NOW))
    assert {a.details["rerun_command"] for a in result.alerts} == {
        "sudo -u analytics kerberos-run-command analytics refine_event "
        "--ignore_failure_flag=true --table_include_regex='mediawiki_foo|navigationtiming' "
        "--since='2024-01-02T03:00:00.000Z' --until='2024-01-02T05:00:00.000Z'"
    }


def test_a_refine_mail_without_readable_partitions_is_still_a_refine_failure() -> None:
    body = (
        "Refine failures for path /wmf/data/raw/event -> database event (/wmf/data/event)\n\n"
        "Something went wrong and the report could not list the partitions.\n\n" + RERUN
    )
    result = parse_raw(RawInput(mail(REFINE_HEADERS, body, qp_width=None, crlf=False), EMAIL, NOW))
    (alert,) = result.alerts
    assert alert.kind == "refine_failure" and result.error is None
    assert alert.details["table"] == "mediawiki_foo|navigationtiming"
    assert (alert.details["since"], alert.details["until"]) == (
        "2024-01-02T03:00:00.000Z",
        "2024-01-02T05:00:00.000Z",
    )
    assert "could not read the failed partitions" in alert.details["note"]


def test_a_refine_partition_read_from_the_input_path_when_the_spec_says_too_little() -> None:
    line = (
        "Failed refinement of hdfs://x/wmf/data/raw/event/eqiad.t/year=2024/month=01/day=02/"
        "hour=07 -> `event`.`t` year=2024"
    )
    body = (
        f"The following 1 of 1 dataset partitions for output table `event`.`t` failed:\n\t{line}\n"
    )
    assert alerts_of(mail(REFINE_HEADERS, body, qp_width=None, crlf=False)) == [
        ("refine_failure", "event.t", "2024-01-02T07")
    ]


@given(qp_width=st.none() | st.integers(20, 76), crlf=st.booleans(), blank=st.integers(0, 3))
def test_airflow_and_systemd_mails_rewrapped(qp_width: int | None, crlf: bool, blank: int) -> None:
    for name in (
        "airflow_task_failed.eml",
        "airflow_task_retry_mapped.eml",
        "systemd_timer_fail_drop.eml",
        "systemd_timer_fail_reportupdater.eml",
    ):
        original = (ALERT_FIXTURES / name).read_bytes()
        message = email.message_from_bytes(original, policy=email.policy.default)
        part = message.get_body(("html", "plain"))
        assert part is not None
        headers = {
            k: str(message[k])
            for k in ("From", "To", "Subject", "Date", "Message-ID")
            if message[k]
        }
        received = message.get_all("Received") or []
        headers["Content-Type"] = f"{part.get_content_type()}; charset=utf-8"
        body = part.get_content().replace("\n\n", "\n\n" + "\n" * blank)
        varied = mail(headers, body, qp_width=qp_width, crlf=crlf, received=received)
        before = parse_raw(RawInput(original, EMAIL, NOW)).alerts
        after = parse_raw(RawInput(varied, EMAIL, NOW)).alerts
        assert [a.fingerprint for a in after] == [a.fingerprint for a in before], name
        keys = (
            "dag_id",
            "task_id",
            "run_id",
            "state",
            "try_number",
            "unit",
            "return_value",
            "out_of_interval_tables",
            "host",
        )
        for a, b in zip(after, before, strict=True):
            assert {k: a.details.get(k) for k in keys} == {k: b.details.get(k) for k in keys}


@given(
    seed=st.integers(0, 2**16), drop_annotations=st.booleans(), version=st.sampled_from(["4", None])
)
def test_alertmanager_payloads_reordered_or_missing_optional_parts(
    seed: int, drop_annotations: bool, version: str | None
) -> None:
    payload = json.loads((ALERT_FIXTURES / "alertmanager_firing.json").read_text())
    rng = random.Random(seed)
    before = parse_raw(RawInput(json.dumps(payload).encode(), ALERTMANAGER, NOW)).alerts
    shuffled = {k: payload[k] for k in rng.sample(list(payload), len(payload))}
    if version is None:
        shuffled.pop("version")
    shuffled["unknownField"] = {"added": "by a newer Alertmanager"}
    for entry in shuffled["alerts"]:
        if drop_annotations:
            entry.pop("annotations", None)
        entry.pop("endsAt", None)
    after = parse_raw(
        RawInput(json.dumps(shuffled, indent=rng.choice([None, 2])).encode(), ALERTMANAGER, NOW)
    )
    assert after.error is None
    assert [(a.fingerprint, a.details["topic"], a.details["unit"]) for a in after.alerts] == [
        (a.fingerprint, a.details["topic"], a.details["unit"]) for a in before
    ]
    assert UNPARSED not in {a.kind for a in after.alerts}
