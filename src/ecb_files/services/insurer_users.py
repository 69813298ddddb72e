"""Insurer users (§11.1, §11.3): claims handlers and viewers of one insurance company,
signing in with e-mail and password. The operator's ``user`` commands, the fixture
loader and the claims-handler page use these.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecb_files.auth.secrets import hash_password, verify_password
from ecb_files.db import Database, insurers
from ecb_files.db import fixtures as stored
from ecb_files.db.models import ROLE_HANDLER, ROLE_VIEWER, InsurerUser
from ecb_files.services.errors import ConflictError, NotFoundError
from ecb_files.services.visibility import Viewer

ROLES = (ROLE_HANDLER, ROLE_VIEWER)


@dataclass(frozen=True)
class UserRecord:
    id: int
    tenant_id: int
    tenant_alias: str
    email: str
    role: str
    active: bool

    @classmethod
    def of(cls, row: InsurerUser) -> UserRecord:
        return cls(row.id, row.company_id, row.company.alias, row.email, row.role, row.active)

    @property
    def can_write(self) -> bool:
        return self.role == ROLE_HANDLER

    def viewer(self) -> Viewer:
        """What this user sees and may do on the read side."""
        return Viewer.insurer(self.tenant_id, f"user {self.email}", can_write=self.can_write)

    def as_json(self) -> dict[str, object]:
        return {
            "insuranceCompany": self.tenant_alias,
            "email": self.email,
            "role": self.role,
            "active": self.active,
        }


def authenticate_insurer_user(
    database: Database, email: str, password: str, *, tenant: str | None = None
) -> UserRecord | None:
    """The active user ``email`` (any letter case) whose password is ``password``, else
    ``None`` — the same ``None`` whether the address is unknown, inactive or the password
    wrong, and every candidate costs one argon2 verification (a dummy one when there is
    none), so the time does not tell either. ``tenant`` narrows to one company's alias.

    An address used in two companies signs in to the one whose password matches.
    """
    with database.read() as unit:
        candidates = [
            user
            for user in insurers.users_by_email(unit, email)
            if tenant is None or user.company.alias == tenant
        ]
        records = [(UserRecord.of(user), user.password_hash) for user in candidates]
    if not records:
        verify_password(password, None)
        return None
    matched = [
        record
        for record, stored_hash in records
        if verify_password(password, stored_hash) and record.active
    ]
    return matched[0] if matched else None


def user_by_id(database: Database, user_id: int) -> UserRecord | None:
    """The user ``user_id`` if still active (a session outlives nothing else)."""
    with database.read() as unit:
        user = insurers.user_by_id(unit, user_id)
        return UserRecord.of(user) if user is not None and user.active else None


def add_user(
    database: Database, tenant: str, email: str, password: str, role: str = ROLE_HANDLER
) -> UserRecord:
    """A new active user of ``tenant``; ``ConflictError`` if the address is taken there."""
    _check_role(role)
    password_hash = hash_password(password)
    with database.write() as unit:
        company = stored.company_by_alias(unit, tenant)
        if company is None:
            raise NotFoundError(f"no insurance company with alias {tenant!r}")
        if insurers.user_in_company(unit, company.id, email) is not None:
            raise ConflictError(f"{tenant} already has a user {email!r}")
        row = InsurerUser(
            company_id=company.id,
            email=email,
            role=role,
            password_hash=password_hash,
            active=True,
        )
        stored.save(unit, row)
        return UserRecord.of(row)


def disable_user(database: Database, tenant: str, email: str) -> UserRecord:
    """Mark the user inactive: it can no longer sign in. Disabling twice is a no-op."""
    with database.write() as unit:
        company = stored.company_by_alias(unit, tenant)
        user = None if company is None else insurers.user_in_company(unit, company.id, email)
        if user is None:
            raise NotFoundError(f"no user {email!r} at insurance company {tenant!r}")
        user.active = False
        stored.save(unit, user)
        return UserRecord.of(user)


def list_users(database: Database, tenant: str | None = None) -> list[UserRecord]:
    with database.read() as unit:
        company_id = None
        if tenant is not None:
            company = stored.company_by_alias(unit, tenant)
            if company is None:
                raise NotFoundError(f"no insurance company with alias {tenant!r}")
            company_id = company.id
        return [UserRecord.of(user) for user in insurers.list_users(unit, company_id)]


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
