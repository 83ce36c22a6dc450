"""The conformance suite covers every command opsweek can print: every alert kind it knows
(what its parsers give, what its own checks emit, unparsed) has runbook steps, and every step
with a command, in every kind and topic, is run by a case. Adding a kind without steps, or a
command without a case, fails here."""

from __future__ import annotations

from opsweek.alerts.runbook import load_runbooks
from opsweek.alerts.sources import KNOWN_KINDS
from opsweek.alerts.sources.alertmanager import FAMILIES, TOPICS
from opsweek.steps import LANGS
from tests.conformance.alert_cases import cases


def books_of(kind: str, *sections: str) -> list[str]:
    return [f"{kind}.{section}" for section in sections if section] + [kind]


def test_every_kind_opsweek_knows_has_steps() -> None:
    books = load_runbooks()
    missing = [kind for kind in KNOWN_KINDS if not books.get(kind)]
    assert not missing, f"alert kinds without runbook steps: {missing}"


def test_every_alertmanager_topic_and_family_has_steps() -> None:
    books = load_runbooks()
    routed = {*TOPICS.values(), *(family for family, _ in FAMILIES)}
    missing = sorted(t for t in routed if not books.get(f"alertmanager.{t}"))
    assert not missing, f"Alertmanager topics and families routed to no steps: {missing}"


def test_every_command_of_every_kind_is_run_by_a_case() -> None:
    books = load_runbooks()
    wanted = {
        (book, step["id"])
        for book, steps in books.items()
        for step in steps
        if set(step) & set(LANGS)
    }
    covered: set[tuple[str, str]] = set()
    kinds_with_cases = set()
    for case in cases():
        kinds_with_cases.add(case.kind)
        details = case.alert.details if case.kind == "alertmanager" else {}
        sections = (str(details.get("topic") or ""), str(details.get("family") or ""))
        for step_id in case.expect:
            book = next(
                b
                for b in books_of(case.kind, *sections)
                if any(s.get("id") == step_id for s in books.get(b, []))
            )
            covered.add((book, step_id))
    assert not wanted - covered, f"commands no case runs: {sorted(wanted - covered)}"
    with_commands = {book.split(".")[0] for book, _ in wanted}
    assert with_commands <= kinds_with_cases
    assert set(KNOWN_KINDS) - {"unparsed"} <= kinds_with_cases, (
        f"kinds with no case: {sorted(set(KNOWN_KINDS) - kinds_with_cases - {'unparsed'})}"
    )
