"""The tables of §1 (plus the service's own bookkeeping) as typed SQLAlchemy models.

Relations, in short::

    InsuranceCompany ─< Case >─< ServicePartner >─< InsuranceCompany   (serves)
          │                 │           ├─< Employee
          │                 │           └─< OAuthClient ─< ClientKey
          └─< DamageNotification ─(merged_to_case)─> Case
    Submission ─< StoredFile (parent: case_id or dn_id)
    InsuranceCompany ─< InsurerUser, InsuranceCompany ─< OAuthClient   (§11.1)

An OAuth client belongs to exactly one owner: a service partner (``partner_id``) or an
insurance company (``company_id``); a check constraint keeps it so. Insurer clients
share the table, the token endpoint and the key handling with partners' clients; the
scopes each kind may hold are in ``domain/scopes.py``.

A stored file has one parent, the case or the DN it was submitted to. Merging a DN into
a case moves its files: ``case_id`` is set and ``dn_id`` cleared (``cases.move_to_case``);
the DN a file came in with stays on its ``Submission``.

Relationships load lazily (the submit path reads one row per lookup), except the two
that are read after the session closes: ``OAuthClient.keys`` and, when loaded through
``files.list_files``/``get_file``, ``StoredFile.employee``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ecb_files.db.base import Base, UTCDateTime

CASE_OPEN = "open"
ROLE_HANDLER = "handler"
ROLE_VIEWER = "viewer"
CASE_CLOSED = "closed"
ENDPOINT_CASE = "submitForCase"
ENDPOINT_DN = "submitForDamageNotification"
ENDPOINT_FNOL = "damageNotification"
IDEMPOTENCY_IN_FLIGHT = "in_flight"
IDEMPOTENCY_DONE = "done"


def email_key(email: str) -> str:
    """The form an e-mail address is matched by: case-insensitive (Unicode case folding)."""
    return email.casefold()


def utc_now() -> datetime:
    return datetime.now(UTC)


service_partner_companies = Table(
    "service_partner_companies",
    Base.metadata,
    Column("partner_id", ForeignKey("service_partners.id"), primary_key=True),
    Column("company_id", ForeignKey("insurance_companies.id"), primary_key=True),
)

case_partners = Table(
    "case_partners",
    Base.metadata,
    Column("case_id", ForeignKey("cases.id"), primary_key=True),
    Column("partner_id", ForeignKey("service_partners.id"), primary_key=True),
)


class InsuranceCompany(Base):
    __tablename__ = "insurance_companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alias: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The tenant's FNoL schema (§10.2) as JSON text; None: the built-in default.
    fnol_schema: Mapped[str | None] = mapped_column(Text)


class ServicePartner(Base):
    __tablename__ = "service_partners"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    security_token: Mapped[uuid.UUID] = mapped_column(Uuid)
    companies: Mapped[list[InsuranceCompany]] = relationship(secondary=service_partner_companies)


class Employee(Base):
    __tablename__ = "employees"
    __table_args__ = (UniqueConstraint("partner_id", "email_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_partners.id"))
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean)

    @validates("email")
    def _keep_email_key(self, _key: str, email: str) -> str:
        # The key is derived, so it can never disagree with the address it matches.
        self.email_key = email_key(email)
        return email


class InsurerUser(Base):
    """A claims handler or viewer of one insurance company (§11.1)."""

    __tablename__ = "insurer_users"
    __table_args__ = (
        UniqueConstraint("company_id", "email_key"),
        CheckConstraint("role IN ('handler', 'viewer')", name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("insurance_companies.id"))
    email: Mapped[str] = mapped_column(String(320))
    # Looked up across tenants at sign-in (the page asks for no tenant).
    email_key: Mapped[str] = mapped_column(String(320), index=True)
    role: Mapped[str] = mapped_column(String(16))
    # argon2id (auth/secrets.py); None: the user cannot sign in until one is set.
    password_hash: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    company: Mapped[InsuranceCompany] = relationship()

    @validates("email")
    def _keep_email_key(self, _key: str, email: str) -> str:
        self.email_key = email_key(email)
        return email


class OAuthClient(Base):
    __tablename__ = "oauth_clients"
    __table_args__ = (
        CheckConstraint(
            "(partner_id IS NULL) <> (company_id IS NULL)",
            name="one_owner",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(200), unique=True)
    partner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service_partners.id"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("insurance_companies.id"))
    scopes: Mapped[str] = mapped_column(Text)
    secret_hash: Mapped[str | None] = mapped_column(Text)
    keys: Mapped[list[ClientKey]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ClientKey.id"
    )
    partner: Mapped[ServicePartner | None] = relationship()
    company: Mapped[InsuranceCompany | None] = relationship()


class ClientKey(Base):
    __tablename__ = "client_keys"
    __table_args__ = (UniqueConstraint("client_pk", "kid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id"))
    kid: Mapped[str] = mapped_column(String(200))
    x5t: Mapped[str | None] = mapped_column(String(200))
    jwk: Mapped[str] = mapped_column(Text)
    certificate_pem: Mapped[str | None] = mapped_column(Text)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        # The tenant's cases newest first, page by page (§11.2).
        Index("ix_cases_company_id_created_at_id", "company_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("insurance_companies.id"))
    number: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    company: Mapped[InsuranceCompany] = relationship()
    partners: Mapped[list[ServicePartner]] = relationship(secondary=case_partners)


class DamageNotification(Base):
    __tablename__ = "damage_notifications"
    __table_args__ = (
        Index("ix_damage_notifications_company_id_created_at_id", "company_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("insurance_companies.id"))
    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_partners.id"))
    merged_to_case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    # The ``damageNotification`` member of the FNoL exactly as sent (§10.2), JSON text;
    # None for a DN created otherwise (a fixture). Who sent it is on its submission.
    fnol: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    company: Mapped[InsuranceCompany] = relationship()


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint(
            "endpoint IN ('submitForCase', 'submitForDamageNotification', 'damageNotification')",
            name="endpoint",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(32))
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id"))
    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_partners.id"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    dn_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("damage_notifications.id"))
    timestamp: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StoredFile(Base):
    __tablename__ = "files"
    __table_args__ = (
        CheckConstraint("case_id IS NOT NULL OR dn_id IS NOT NULL", name="has_parent"),
        # A parent's files newest first, page by page (§11.2); they serve the lookups by
        # parent alone too.
        Index("ix_files_case_id_created_at_id", "case_id", "created_at", "id"),
        Index("ix_files_dn_id_created_at_id", "dn_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))
    dn_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("damage_notifications.id"))
    submission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id"))
    file_name: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    is_restricted: Mapped[bool] = mapped_column(Boolean)
    is_damage_image: Mapped[bool] = mapped_column(Boolean)
    blob_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    employee: Mapped[Employee] = relationship()


class SmallFileContent(Base):
    """The bytes of a small file, kept with its row instead of in the blob store
    (``storage/small_blobs.py``); ``blob_id`` is the file's."""

    __tablename__ = "small_file_contents"

    blob_id: Mapped[str] = mapped_column(
        ForeignKey("files.blob_id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Thumbnail(Base):
    """A thumbnail made of a file (§11.2): a blob in the store, derived from the file's.
    Removed with the file's row; its blob is then unreferenced and ``gc`` removes it."""

    __tablename__ = "thumbnails"

    file_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True
    )
    longest_side: Mapped[int] = mapped_column(Integer, primary_key=True)
    blob_id: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotencyRecord(Base):
    """One ``Idempotency-Key`` of one client on one endpoint (§3.4).

    ``owner`` names the process serving the request and ``lease_until`` how long it may
    be presumed alive; a record ``in_flight`` past its lease belongs to a dead process.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (CheckConstraint("state IN ('in_flight', 'done')", name="state"),)

    client_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_sha256: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(64))
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class UsedAssertion(Base):
    """A client assertion's ``jti``, kept until the assertion could no longer be accepted."""

    __tablename__ = "used_assertions"

    issuer: Mapped[str] = mapped_column(String(200), primary_key=True)
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SigningKey(Base):
    """A private key the server signs access tokens with; retired keys stay published."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(100), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in claims handler's session on the page at ``/ui/`` (§11.3).

    The cookie carries a random id; only its SHA-256 is stored, so a copy of the table
    signs no one in. ``csrf_token`` is the synchronizer token every form of the session
    carries. The row's removal is the sign-out; ``expires_at`` ends it regardless.
    """

    __tablename__ = "web_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SignInFailure(Base):
    """One failed sign-in for an e-mail address, counted towards its lock (§11.3).

    The address is kept as the SHA-256 of its case-folded form: the table needs to count,
    not to know who typed what.
    """

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email_sha256: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SignInLock(Base):
    """An e-mail address that may not sign in before ``locked_until`` (§11.3)."""

    __tablename__ = "sign_in_locks"

    email_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    locked_until: Mapped[datetime] = mapped_column(UTCDateTime)


class RateBucket(Base):
    """One §12.2 rate limit of one OAuth client, shared by every process (GCRA).

    ``key`` is the limit's kind and the client id; ``tat_ns`` the theoretical arrival
    time in nanoseconds since the epoch: the moment the bucket is full again. A missing
    row is a full bucket.
    """

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    tat_ns: Mapped[int] = mapped_column(BigInteger)


class AuthFailure(Base):
    """One failed client authentication at the token endpoint, from an address (§12.2).

    The client id is kept as its SHA-256 (it is whatever the caller sent, of any
    length); ``None`` when the request named no client.
    """

    __tablename__ = "auth_failures"
    __table_args__ = (Index("ix_auth_failures_address_failed_at", "address", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(64))
    client_sha256: Mapped[str | None] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditEvent(Base):
    """One entry of the audit trail (§12.3): who did what, when, from where.

    ``principal_kind`` is ``client`` (an OAuth client: ``principal`` is its client id),
    ``user`` (a claims handler or viewer on the page: ``principal`` is the e-mail, as
    typed for a refused sign-in) or ``operator`` (the command line: the login name;
    ``address`` is then the host's name). The ids name what was read or acted on; ``detail``
    says more where the action needs it (a range, "no change", why a sign-in failed).
    Rows are only ever added.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    action: Mapped[str] = mapped_column(String(40))
    principal_kind: Mapped[str] = mapped_column(String(16))
    principal: Mapped[str] = mapped_column(String(320))
    tenant_id: Mapped[int | None] = mapped_column(Integer)
    partner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    file_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    dn_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    address: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(String(200))
