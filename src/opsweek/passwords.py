"""Web login passwords: argon2id hashes (argon2-cffi), never the password itself."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from opsweek.db.models import Person
from opsweek.errors import BadInput

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_LENGTH = 12


@functools.cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


@functools.cache
def _dummy() -> str:
    """A hash checked when the user is unknown, so that a wrong user name takes as long as a
    wrong password."""
    return _hasher().hash("opsweek-dummy-password")


def set_password(session: Session, username: str, password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise BadInput(f"the password must have at least {MIN_LENGTH} characters")
    person = session.scalar(
        select(Person).where(Person.username == username, Person.active.is_(True))
    )
    if person is None:
        raise BadInput(f"unknown user {username!r}")
    person.password_hash = _hasher().hash(password)
    person.session_version += 1  # a new password ends the sessions made with the old one


def check_password(session: Session, username: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    person = session.scalar(
        select(Person).where(Person.username == username, Person.active.is_(True))
    )
    stored = person.password_hash if person is not None else None
    try:
        _hasher().verify(stored or _dummy(), password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None
