"""Rotation benchmark: 60 people, 300 random vacation ranges, 104 weeks planned.

Checks every hard rule and the fairness bound on the result, then prints the time taken by
(1) the domain alone (availability + solver) and (2) the whole `plan` path through a SQLite store.
Target: (1) under 1 second on one core.

    python benchmarks/rotation.py [--seed N] [--repeat N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from opsweek.db.session import open_store
from opsweek.rotation.availability import AvailabilityPolicy, AwayPeriod, available_by_week
from opsweek.rotation.people import PersonRecord
from opsweek.rotation.service import Rotation
from opsweek.rotation.solver import WEEK, Candidate, plan_weeks
from opsweek.rotation.team import Team
from opsweek.rotation.views import RotationConfig
from opsweek.rotation.weeks import WeekRule

PEOPLE, VACATIONS, WEEKS = 60, 300, 104
ZONES = ["Europe/Paris", "America/New_York", "America/Los_Angeles", "Asia/Kolkata"]
START = date(2027, 1, 7)  # a Thursday


def make_team(rng: random.Random) -> tuple[list[Candidate], list[AwayPeriod]]:
    people = [Candidate(f"user{i:02d}", float(rng.choice([1, -5, -8, 5.5]))) for i in range(PEOPLE)]
    horizon = WEEKS * 7
    periods = []
    for _ in range(VACATIONS):
        first = START + timedelta(days=rng.randrange(horizon))
        length = rng.choice([1, 2, 3, 5, 7, 10, 14, 21])
        who = rng.choice(people).username
        periods.append(AwayPeriod(who, first, first + timedelta(days=length - 1), "vacation"))
    return people, periods


def verify(
    weeks: list[date],
    plan: dict[date, str],
    available: dict[date, frozenset[str]],
    people: list[Candidate],
) -> None:
    for week in weeks:
        assert plan[week] in available[week], f"{plan[week]} is away in {week}"
        if plan.get(week - WEEK) == plan[week]:
            assert available[week] == {plan[week]}, f"two in a row at {week}"
    load = Counter({p.username: 0 for p in people}) + Counter(plan.values())
    groups: dict[frozenset[date], list[str]] = {}
    for p in people:
        groups.setdefault(frozenset(w for w in weeks if p.username in available[w]), []).append(
            p.username
        )
    for members in groups.values():
        spread = max(load[m] for m in members) - min(load[m] for m in members)
        assert spread <= 1, f"fairness bound broken among {members}: spread {spread}"
    overall = max(load.values()) - min(load.values())
    print(
        f"  verified: {len(weeks)} weeks, nobody away on duty, no two in a row, "
        f"fairness bound holds ({len(groups)} availability groups); "
        f"overall load {min(load.values())}..{max(load.values())} (spread {overall})"
    )


def bench_domain(seed: int, repeat: int) -> float:
    rng = random.Random(seed)
    people, periods = make_team(rng)
    weeks = [START + WEEK * i for i in range(WEEKS)]
    policy = AvailabilityPolicy()
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        available = available_by_week(weeks, [p.username for p in people], periods, policy)
        plan = plan_weeks(weeks, people, available, {})
        timings.append(time.perf_counter() - began)
    verify(weeks, plan, available, people)
    return statistics.median(timings)


def bench_store(seed: int) -> float:
    rng = random.Random(seed)
    people, periods = make_team(rng)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        now = datetime.combine(START, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
        config = RotationConfig(WeekRule(ZoneInfo("UTC")), AvailabilityPolicy(), 0)
        with store.session() as session:
            team = Team(session, now)
            team.import_people(PersonRecord(p.username, timezone=rng.choice(ZONES)) for p in people)
            team.import_away(periods, "bench")
        began = time.perf_counter()
        with store.session() as session:
            result = Rotation(session, config, "bench", now).plan(WEEKS)
        elapsed = time.perf_counter() - began
        store.close()
    assert len(result.weeks) == WEEKS
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"rotation benchmark: {PEOPLE} people, {VACATIONS} vacation ranges, {WEEKS} weeks "
        f"(seed {args.seed})"
    )
    domain = bench_domain(args.seed, args.repeat)
    print(
        f"  availability + solver: {domain * 1000:.1f} ms (median of {args.repeat}) "
        f"- target < 1000 ms: {'OK' if domain < 1 else 'MISSED'}"
    )
    store = bench_store(args.seed)
    print(f"  full plan through SQLite (load, solve, write 104 weeks): {store * 1000:.1f} ms")
    return 0 if domain < 1 else 1


if __name__ == "__main__":
    sys.exit(main())
