"""API tokens for scripts and webhooks. A token is shown once; only its SHA-256 is stored
(tokens are 32 random bytes, so a fast hash is enough; passwords get argon2 elsewhere)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opsweek.db.models import ApiToken, Person
from opsweek.errors import NotFound
from opsweek.rotation.people import check_username
from opsweek.timeutil import utcnow

PREFIX = "ow_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    def __init__(self, session: Session, now: datetime | None = None) -> None:
        self.session = session
        self.now = now or utcnow()

    def create(self, username: str, name: str = "") -> tuple[ApiToken, str]:
        check_username(username)
        token = PREFIX + secrets.token_urlsafe(32)
        row = ApiToken(
            username=username, name=name, token_hash=token_hash(token), created_at=self.now
        )
        self.session.add(row)
        self.session.flush()
        return row, token

    def list(self) -> list[ApiToken]:
        return list(self.session.scalars(select(ApiToken).order_by(ApiToken.id)))

    def revoke(self, token_id: int) -> ApiToken:
        row = self.session.get(ApiToken, token_id) if 0 < token_id < 2**63 else None
        if row is None or row.revoked_at is not None:
            raise NotFound(f"no active token {token_id}")
        row.revoked_at = self.now
        return row

    def user_for(self, token: str) -> str | None:
        """The username a valid token acts as, or None. A token of a team member works while
        they are on the team (their tokens stop with their removal); a token of a service
        account that is nobody of the team (alertmanager, a bot) works until revoked."""
        if not token.startswith(PREFIX):
            return None
        row = self.session.execute(
            select(ApiToken.username, Person.active)
            .outerjoin(Person, Person.username == ApiToken.username)
            .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None))
        ).first()
        if row is None or row.active is False:
            return None
        return str(row.username)

    def epoch(self) -> tuple[int, int, int]:
        """A value that changes whenever a token may have stopped being valid: a token
        revoked, a person removed, a session version moved on. Cheap enough to read often."""
        revoked = select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_not(None))
        inactive = select(func.count()).select_from(Person).where(Person.active.is_(False))
        versions = select(func.coalesce(func.sum(Person.session_version), 0))
        row = self.session.execute(
            select(
                revoked.scalar_subquery(), inactive.scalar_subquery(), versions.scalar_subquery()
            )
        ).one()
        return int(row[0]), int(row[1]), int(row[2])
