"""Which steps of a new user's onboarding are already true, as far as opsweek can see: the
HDFS home and its owner (through the files root), and the user's groups where this machine
knows them (its passwd and group databases: a stat host's, when run there). What it cannot
see (the Kerberos principal, the access request) is said, not guessed."""

from __future__ import annotations

import grp
import pwd
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

DONE, MISSING, UNKNOWN = "done", "missing", "unknown"


@dataclass(frozen=True)
class OnboardStep:
    key: str
    what: str
    state: str  # done, missing, unknown
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "what": self.what, "state": self.state, "detail": self.detail}


def check(
    user: str,
    owner_of: Callable[[str], tuple[str, str] | None],
    groups_of: Callable[[str], set[str] | None],
    wanted_groups: Iterable[str],
) -> list[OnboardStep]:
    home = f"/user/{user}"
    owner = owner_of(home)
    if owner is None:
        steps = [OnboardStep("hdfs-home", f"HDFS home {home}", MISSING, "not there")]
    elif owner[0] == user:
        steps = [OnboardStep("hdfs-home", f"HDFS home {home}", DONE, f"owned by {owner[0]}")]
    else:
        detail = f"owned by {owner[0] or '?'}, not {user}"
        steps = [OnboardStep("hdfs-home", f"HDFS home {home}", MISSING, detail)]
    groups = groups_of(user)
    for group in wanted_groups:
        what = f"member of {group}"
        if groups is None:
            steps.append(OnboardStep(f"group:{group}", what, UNKNOWN, "user unknown here"))
        else:
            steps.append(OnboardStep(f"group:{group}", what, DONE if group in groups else MISSING))
    steps.append(
        OnboardStep(
            "kerberos",
            "Kerberos principal",
            UNKNOWN,
            "not visible from opsweek: the user's kinit on a stat host shows it",
        )
    )
    return steps


def local_groups(user: str) -> set[str] | None:
    """The groups of ``user`` in this machine's databases; None when it does not know it."""
    try:
        primary = pwd.getpwnam(user).pw_gid
    except KeyError:
        return None
    found = {g.gr_name for g in grp.getgrall() if user in g.gr_mem}
    with suppress(KeyError):  # a primary group without a name adds nothing
        found.add(grp.getgrgid(primary).gr_name)
    return found
