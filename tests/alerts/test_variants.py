"""Inputs as the world sends them (issue 28): a corpus of mail variants of every kind, each
read as tests/fixtures/variants/expected.toml says (written by hand from the mail); and any
fixture mail forwarded, attached, re-subjected or replied to gives the same alert, or a note
on it."""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from opsweek.alerts.changes import AlertChanges
from opsweek.alerts.formats import EMAIL
from opsweek.alerts.model import UNPARSED, RawInput
from opsweek.alerts.parse import parse_raw
from opsweek.alerts.runbook import steps_for
from opsweek.alerts.sources import EMAIL_PARSERS
from opsweek.db.models import Alert, AlertEvent
from opsweek.db.session import Store
from tests.alerts.helpers import ALERT_FIXTURES
from tests.fixtures.variants import generate

VARIANTS = Path(generate.__file__).parent
EXPECTED: dict[str, dict[str, Any]] = tomllib.loads(
    (VARIANTS / "expected.toml").read_text(encoding="utf-8")
)
RECEIVED = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
USAGE = Path(__file__).parents[2] / "docs" / "usage.md"


def read(data: bytes) -> list[Any]:
    outcome = parse_raw(RawInput(data, EMAIL, RECEIVED, "test"))
    assert outcome.error is None, outcome.error
    return outcome.alerts


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_variant_is_read_as_it_is_written(name: str) -> None:
    want = EXPECTED[name]
    alert, *_ = read((VARIANTS / name).read_bytes())
    assert alert.kind == want["kind"] != UNPARSED
    assert alert.status == want.get("status", "firing")
    details = alert.details
    for field, value in want.get("fields", {}).items():
        assert details.get(field, "") == value, field
    assert (details.get("forwarded_by") == generate.ANA) == want.get("forwarded", False)
    steps = steps_for(alert.kind, details, alert.occurred_at, alert.occurred_at, 1)
    commands = {s.id: s for s in steps if s.command}
    assert set(want.get("steps", [])) <= set(commands), sorted(commands)
    said = [s.text for s in steps if s.text.startswith("The e-mail does not say")]
    assert [t.split(":")[0].removeprefix("The e-mail does not say ") for t in said] == want.get(
        "unknown", []
    )
    if "host" in want:
        assert commands["journal"].host == want["host"]
    if "rerun" in want:
        assert commands["rerun"].command == want["rerun"]


def test_every_kind_has_five_variants_and_each_its_expectation() -> None:
    on_disk = {str(p.relative_to(VARIANTS)) for p in VARIANTS.glob("*/*.eml")}
    assert on_disk == set(EXPECTED)
    per_kind = Counter(name.split("/")[0] for name in on_disk)
    assert set(per_kind) == {parser.KIND for parser in EMAIL_PARSERS}  # every e-mail kind
    assert min(per_kind.values()) >= 5


def test_the_docs_say_how_many_variants_are_read_right() -> None:
    kinds = len({name.split("/")[0] for name in EXPECTED})
    assert f"{len(EXPECTED)} variants of {kinds} kinds" in USAGE.read_text()


# --- any fixture mail, as people pass it on ----------------------------------------------
FIXTURES = sorted(
    p
    for p in [*ALERT_FIXTURES.glob("*.eml"), *VARIANTS.glob("*/*.eml")]
    if p.name not in ("broken.eml", "unknown.eml")
    and "forwarded" not in p.name
    and "attached" not in p.name
)
SHAPES = {
    "gmail": generate.forward_gmail,
    "thunderbird": generate.forward_thunderbird,
    "outlook": generate.forward_outlook,
    "apple": generate.forward_apple,
    "attached": generate.forward_attached,
    "listed": generate.listed,
    "listed twice": lambda data: generate.listed(generate.listed(data, "[ops]")),
}


def seen(alerts: list[Any]) -> list[tuple[str, str, str]]:
    return sorted((a.kind, a.fingerprint, a.status) for a in alerts)


@given(fixture=st.sampled_from(FIXTURES), shape=st.sampled_from(sorted(SHAPES)))
def test_a_mail_passed_on_gives_the_same_alerts(fixture: Path, shape: str) -> None:
    data = fixture.read_bytes()
    direct = read(data)
    passed_on = read(SHAPES[shape](data))
    assert seen(passed_on) == seen(direct)
    if shape not in ("listed", "listed twice"):
        assert all(a.details.get("forwarded_by") == generate.ANA for a in passed_on)


def reply(data: bytes, said: str, *, threaded: bool) -> bytes:
    """A person's answer to the list: the original quoted below, threaded or not."""
    original = generate.parsed(data)
    answer = EmailMessage()
    answer["From"] = "Bo Lee <blee@wikimedia.org>"
    answer["To"] = generate.LIST
    answer["Subject"] = f"Re: {original['Subject']}"
    answer["Date"] = "Sat, 05 Dec 2026 13:00:00 +0000"
    if threaded and original["Message-ID"]:
        answer["In-Reply-To"] = original["Message-ID"]
        answer["References"] = original["Message-ID"]
    quoted = "\n".join(f"> {line}" for line in generate.body_of(data).split("\n"))
    answer.set_content(f"{said}\n\nOn Mon, 30 Nov 2026, {original['From']} wrote:\n{quoted}\n")
    return answer.as_bytes()


@pytest.mark.parametrize(
    ("name", "threaded", "said", "action"),
    [
        ("systemd_timer_failed/sqoop_private.eml", True, "Deployed, done.", "reply: says handled"),
        ("systemd_timer_failed/sqoop_private.eml", False, "Why again?", "reply"),
        ("refine_failure/refine_scala_options_line.eml", False, "Reran it.", "reply: says handled"),
        ("airflow_task_failed/html_default.eml", True, "Looking into it", "reply: says handled"),
        ("data_loss/error_text.eml", True, "Is this real loss?", "reply"),
    ],
)
def test_a_reply_is_a_note_on_its_alert_never_a_refire(
    store: Store, name: str, threaded: bool, said: str, action: str
) -> None:
    data = (VARIANTS / name).read_bytes()
    changes = AlertChanges(store)
    changes.ingest([RawInput(data, EMAIL, RECEIVED, "test")], RECEIVED)
    with store.session() as session:
        before = {a.id: (a.count, a.status) for a in session.scalars(select(Alert))}
    counts = changes.ingest([RawInput(reply(data, said, threaded=threaded), EMAIL, RECEIVED)])
    assert counts.replies == 1 and counts.new == 0 and counts.unparsed == 0
    with store.session() as session:
        after = {a.id: (a.count, a.status) for a in session.scalars(select(Alert))}
        notes = [
            (e.alert_id, e.actor, e.action, e.note)
            for e in session.scalars(select(AlertEvent).where(AlertEvent.action.like("reply%")))
        ]
    assert after == before  # the same alerts, neither fired again nor resolved
    assert notes and {alert_id for alert_id, *_ in notes} <= set(before)
    assert all(n[1:] == ("Bo Lee <blee@wikimedia.org>", action, said) for n in notes)


def test_a_reply_to_a_mail_opsweek_never_saw_is_kept_and_said(store: Store) -> None:
    data = (VARIANTS / "systemd_timer_failed/sqoop_private.eml").read_bytes()
    counts = AlertChanges(store).ingest(
        [RawInput(reply(data, "done", threaded=True), EMAIL, RECEIVED)]
    )
    assert counts.unparsed == 1 and counts.replies == 0
    with store.session() as session:
        (kept,) = session.scalars(select(Alert))
    assert kept.details["reason"].startswith("a reply to a mail opsweek has no alert for")
