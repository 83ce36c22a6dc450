"""The schedule solver: hard rules and fairness, on hand-made and on randomized teams."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsweek.rotation.solver import (
    WEEK,
    Candidate,
    NoEligiblePerson,
    plan_weeks,
    suggest_fix,
)

START = date(2026, 1, 1)  # a Thursday


def weeks(n: int, start: date = START) -> list[date]:
    return [start + WEEK * i for i in range(n)]


def everyone(names: list[str], ws: list[date]) -> dict[date, frozenset[str]]:
    return {w: frozenset(names) for w in ws}


def test_round_robin_when_everyone_is_available() -> None:
    names = ["ann", "bob", "cid"]
    ws = weeks(6)
    plan = plan_weeks(ws, [Candidate(n) for n in names], everyone(names, ws), {})
    assert [plan[w] for w in ws] == ["ann", "bob", "cid", "ann", "bob", "cid"]


def test_history_counts_and_longest_off_duty_breaks_ties() -> None:
    names = ["ann", "bob", "cid"]
    ws = weeks(3)
    history = {START - WEEK * 3: "bob", START - WEEK * 2: "cid", START - WEEK: "ann"}
    plan = plan_weeks(ws, [Candidate(n) for n in names], everyone(names, ws), history)
    # all have one week; bob has been off longest, then cid, then ann
    assert [plan[w] for w in ws] == ["bob", "cid", "ann"]


def test_least_loaded_goes_first() -> None:
    names = ["ann", "bob"]
    ws = weeks(2)
    history = {START - WEEK * 4: "ann", START - WEEK * 3: "ann", START - WEEK * 2: "bob"}
    plan = plan_weeks(ws, [Candidate(n) for n in names], everyone(names, ws), history)
    assert plan[ws[0]] == "bob"


def test_away_person_is_skipped() -> None:
    names = ["ann", "bob", "cid"]
    ws = weeks(3)
    available = everyone(names, ws)
    available[ws[0]] = frozenset({"bob", "cid"})
    plan = plan_weeks(ws, [Candidate(n) for n in names], available, {})
    assert plan[ws[0]] != "ann"
    assert "ann" in plan.values()


def test_two_in_a_row_only_when_nobody_else_can() -> None:
    names = ["ann", "bob"]
    ws = weeks(3)
    available = {
        ws[0]: frozenset({"ann"}),
        ws[1]: frozenset({"ann"}),
        ws[2]: frozenset({"ann", "bob"}),
    }
    plan = plan_weeks(ws, [Candidate(n) for n in names], available, {})
    assert plan[ws[0]] == plan[ws[1]] == "ann"
    assert plan[ws[2]] == "bob"


def test_consecutive_rule_looks_at_history_and_fixed_next_week() -> None:
    names = ["ann", "bob", "cid"]
    ws = weeks(3)
    history = {START - WEEK: "bob"}
    fixed = {ws[1]: "ann"}
    plan = plan_weeks(ws, [Candidate(n) for n in names], everyone(names, ws), history, fixed)
    assert plan[ws[0]] == "cid"  # not bob (last week), not ann (fixed next week)
    assert plan[ws[1]] == "ann"


def test_fixed_weeks_are_kept_even_if_unfair() -> None:
    names = ["ann", "bob"]
    ws = weeks(4)
    fixed = {ws[0]: "ann", ws[2]: "ann"}
    plan = plan_weeks(ws, [Candidate(n) for n in names], everyone(names, ws), {}, fixed)
    assert plan == {ws[0]: "ann", ws[1]: "bob", ws[2]: "ann", ws[3]: "bob"}


def test_no_eligible_person_names_the_week() -> None:
    names = ["ann", "bob"]
    ws = weeks(3)
    available = everyone(names, ws)
    available[ws[1]] = frozenset()
    with pytest.raises(NoEligiblePerson) as info:
        plan_weeks(ws, [Candidate(n) for n in names], available, {})
    assert info.value.week == ws[1]
    assert ws[1].isoformat() in str(info.value)
    assert "all 2 team members are away" in str(info.value)


def test_timezone_spread_breaks_remaining_ties() -> None:
    people = [
        Candidate("eu1", 1.0),
        Candidate("eu2", 1.0),
        Candidate("us1", -5.0),
        Candidate("us2", -5.0),
    ]
    ws = weeks(4)
    plan = plan_weeks(ws, people, everyone([p.username for p in people], ws), {})
    zones = [next(p.utc_offset for p in people if p.username == plan[w]) for w in ws]
    assert all(a != b for a, b in itertools.pairwise(zones)), zones


def test_suggest_swap_with_the_closest_possible_week() -> None:
    ws = weeks(4)
    assignments = {ws[0]: "ann", ws[1]: "bob", ws[2]: "cid", ws[3]: "dan"}
    available = everyone(["ann", "bob", "cid", "dan"], ws)
    available[ws[1]] = frozenset({"ann", "cid", "dan"})  # bob is away in week 1
    fix = suggest_fix(ws[1], assignments, available, ["ann", "bob", "cid", "dan"])
    assert fix is not None and fix.action == "swap"
    # swapping with the neighbouring week 0 is valid: ann takes week 1, bob week 0
    assert (fix.other_week, fix.username) == (ws[0], "ann")
    assert fix.describe().startswith(f"opsweek rotation swap {ws[1]} {ws[0]}")


def test_suggested_swap_never_creates_two_in_a_row() -> None:
    ws = weeks(4)
    assignments = {ws[0]: "ann", ws[1]: "bob", ws[2]: "ann", ws[3]: "dan"}
    available = everyone(["ann", "bob", "dan"], ws)
    available[ws[1]] = frozenset({"ann", "dan"})  # bob is away in week 1
    fix = suggest_fix(ws[1], assignments, available, ["ann", "bob", "dan"])
    # ann taking week 1 would sit between her weeks 0 and 2; dan's week 3 is the valid swap
    assert fix is not None and (fix.action, fix.other_week, fix.username) == ("swap", ws[3], "dan")


def test_suggest_cover_when_no_swap_works() -> None:
    ws = weeks(2)
    assignments = {ws[0]: "ann", ws[1]: "bob"}
    available = {ws[0]: frozenset({"ann", "cid"}), ws[1]: frozenset({"cid"})}
    fix = suggest_fix(ws[1], assignments, available, ["ann", "bob", "cid"])
    assert fix is not None
    assert (fix.action, fix.username) == ("cover", "cid")
    assert fix.describe() == f"opsweek rotation cover {ws[1]} --by cid"


# --- randomized teams ---------------------------------------------------------------------


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[date], list[Candidate], dict, dict]:
    size = draw(st.integers(1, 9))
    names = [f"p{i}" for i in range(size)]
    offsets = st.sampled_from([-8.0, -5.0, 0.0, 1.0, 5.5])
    people = [Candidate(n, draw(offsets)) for n in names]
    ws = weeks(draw(st.integers(1, 30)))
    available = {}
    for w in ws:
        away = draw(st.sets(st.sampled_from(names), max_size=max(0, size - 1)))
        available[w] = frozenset(names) - away
    history_len = draw(st.integers(0, 8))
    history = {START - WEEK * (i + 1): draw(st.sampled_from(names)) for i in range(history_len)}
    return ws, people, available, history


@given(scenarios())
def test_hard_rules_hold_on_random_teams(case: tuple) -> None:
    ws, people, available, history = case
    plan = plan_weeks(ws, people, available, history)
    assert sorted(plan) == ws
    for w in ws:
        assert plan[w] in available[w], "assigned while away"
        previous = plan.get(w - WEEK) or history.get(w - WEEK)
        if plan[w] == previous:
            assert available[w] == {plan[w]}, "two weeks in a row although someone else could"


@given(scenarios())
def test_each_week_goes_to_a_least_loaded_allowed_person(case: tuple) -> None:
    """Replaying the plan: whoever got a week had the fewest weeks (history included) among
    the people the hard rules allowed that week, and among those the longest off duty."""
    ws, people, available, history = case
    plan = plan_weeks(ws, people, available, history)
    load = Counter(history.values())
    last: dict[str, date] = {}
    for week, name in sorted(history.items()):
        last[name] = week
    for week in ws:
        free = available[week]
        previous = plan.get(week - WEEK) or history.get(week - WEEK)
        allowed = {n for n in free if n != previous} or set(free)
        chosen = plan[week]
        assert load[chosen] == min(load[n] for n in allowed), (week, chosen, dict(load))
        tied = [n for n in allowed if load[n] == load[chosen]]
        assert last.get(chosen, date.min) == min(last.get(n, date.min) for n in tied)
        load[chosen] += 1
        last[chosen] = week


@given(scenarios())
def test_fairness_bound_for_people_available_for_the_same_weeks(case: tuple) -> None:
    """Among people available for the same weeks, starting from a balanced history, the most
    and least loaded differ by at most one week."""
    ws, people, available, _ = case
    plan = plan_weeks(ws, people, available, {})
    load = Counter({p.username: 0 for p in people}) + Counter(plan.values())
    groups: dict[frozenset, list[str]] = {}
    for p in people:
        groups.setdefault(frozenset(w for w in ws if p.username in available[w]), []).append(
            p.username
        )
    for members in groups.values():
        counts = [load[m] for m in members]
        assert max(counts) - min(counts) <= 1, (members, dict(load))


def test_the_two_in_a_row_rule_wins_over_fairness() -> None:
    """Found by hypothesis: p1 is least loaded but was on duty last week, and p0 can take the
    week, so p0 does, and the spread grows to two. The hard rule comes first."""
    history = {START - WEEK * 3: "p0", START - WEEK * 2: "p0", START - WEEK: "p1"}
    plan = plan_weeks(
        [START], [Candidate("p0"), Candidate("p1")], {START: frozenset({"p0", "p1"})}, history
    )
    assert plan == {START: "p0"}


@given(scenarios())
def test_balanced_team_stays_within_one_week(case: tuple) -> None:
    ws, people, _, _ = case
    names = [p.username for p in people]
    plan = plan_weeks(ws, people, everyone(names, ws), {})
    load = Counter({n: 0 for n in names}) + Counter(plan.values())
    counts = [load[n] for n in names]
    assert max(counts) - min(counts) <= 1


@given(scenarios(), st.data())
def test_fixed_weeks_are_never_changed(case: tuple, data: st.DataObject) -> None:
    ws, people, available, history = case
    names = [p.username for p in people]
    chosen = data.draw(st.sets(st.sampled_from(ws), max_size=len(ws)))
    fixed = {w: data.draw(st.sampled_from(names)) for w in chosen}
    plan = plan_weeks(ws, people, available, history, fixed)
    assert all(plan[w] == fixed[w] for w in fixed)
    for w in ws:
        if w not in fixed:
            assert plan[w] in available[w]


def test_week_constant_is_seven_days() -> None:
    assert timedelta(days=7) == WEEK
