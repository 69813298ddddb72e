"""``ecb-files load``: create or update the objects of a fixture document (§5).

Everything is upserted by its natural key: insurance company by ``alias``, service
partner by ``id``, employee by e-mail within its partner (case-insensitively), OAuth
client by ``clientId``, case and damage notification by ``id``. Loading the same
document twice changes nothing the second time. The whole document is checked first
(``fixture_document.parse_fixture``) and then written in one transaction, so a refused
document writes nothing.

What a load never undoes, so that reloading is safe on a running deployment:

- signing keys are not touched, so issued access tokens stay valid;
- a DN merged in the database stays merged, whatever the document says about it;
  ``mergedToCaseId`` merges an open DN with the move semantics of §1;
- registered client keys are kept (rotation means several); new ones are added;
- employees, insurer users, clients and keys missing from the document are kept;
- a client secret or a user's password is stored as an argon2 hash; a stored hash that
  already verifies for the document's value is kept as it is.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ecb_files.auth.secrets import (
    hash_client_secret,
    hash_password,
    secret_needs_rehash,
    verify_client_secret,
)
from ecb_files.db import Database, Transaction, clients, insurers
from ecb_files.db import fixtures as stored
from ecb_files.db.models import (
    CASE_OPEN,
    ROLE_HANDLER,
    Case,
    ClientKey,
    DamageNotification,
    Employee,
    InsuranceCompany,
    InsurerUser,
    OAuthClient,
    ServicePartner,
)
from ecb_files.services.cases import merge_into_case
from ecb_files.services.errors import ConflictError
from ecb_files.services.fixture_document import (
    CaseSpec,
    ClientSpec,
    CompanySpec,
    DamageNotificationSpec,
    EmployeeSpec,
    FixtureError,
    KeySpec,
    PartnerSpec,
    Ref,
    UserSpec,
    parse_fixture,
    read_fixture_file,
)

__all__ = ["FixtureError", "LoadReport", "load_fixtures", "read_fixture_file"]

_KINDS = (
    ("insurance_company", "insurance company", "insurance companies"),
    ("service_partner", "service partner", "service partners"),
    ("employee", "employee", "employees"),
    ("insurer_user", "insurer user", "insurer users"),
    ("client", "client", "clients"),
    ("client_key", "client key", "client keys"),
    ("case", "case", "cases"),
    ("damage_notification", "damage notification", "damage notifications"),
)


@dataclass
class LoadReport:
    """What a load did: objects created and objects that already existed (and were updated)."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    merged: int = 0

    def summary(self) -> str:
        """One line for the operator, e.g. ``loaded 1 insurance company (1 new), …``."""
        parts = []
        for kind, singular, plural in _KINDS:
            total = self.created[kind] + self.updated[kind]
            if total:
                parts.append(
                    f"{total} {singular if total == 1 else plural} ({self.created[kind]} new)"
                )
        if self.merged:
            parts.append(f"{self.merged} damage notification(s) merged")
        return "loaded " + (", ".join(parts) if parts else "nothing")


def load_fixtures(database: Database, data: Mapping[str, Any]) -> LoadReport:
    """Check ``data`` (the parsed JSON document) and upsert it in one transaction.

    Raises ``FixtureError`` naming the JSON path of the first fault; nothing is written then.
    """
    document = parse_fixture(data)
    report = LoadReport()
    with database.write() as unit:
        loader = _Loader(unit, report)
        for company in document.companies:
            loader.company(company)
        for partner in document.partners:
            loader.partner(partner)
        for case in document.cases:
            loader.case(case)
        for dn in document.damage_notifications:
            loader.damage_notification(dn)
    return report


class _Loader:
    def __init__(self, unit: Transaction, report: LoadReport) -> None:
        self.unit = unit
        self.report = report

    def _count(self, kind: str, *, created: bool) -> None:
        (self.report.created if created else self.report.updated)[kind] += 1

    def company(self, spec: CompanySpec) -> None:
        row = self._company_by_alias(spec.alias)
        created = row is None
        if row is None:
            row = InsuranceCompany(alias=spec.alias, name=spec.name, fnol_schema=None)
        row.name = spec.name
        if spec.sets_fnol_schema:
            row.fnol_schema = spec.fnol_schema
        self._count("insurance_company", created=created)
        stored.save(self.unit, row)
        for user in spec.users:
            self._user(row, user)
        for client in spec.clients:
            self._client(client, company=row)

    def _user(self, company: InsuranceCompany, spec: UserSpec) -> None:
        row = insurers.user_in_company(self.unit, company.id, spec.email)
        created = row is None
        if row is None:
            row = InsurerUser(
                company_id=company.id, email=spec.email, role=ROLE_HANDLER, active=True
            )
        row.email = spec.email
        if isinstance(spec.role, str):
            row.role = spec.role
        if isinstance(spec.active, bool):
            row.active = spec.active
        if spec.password is None:
            row.password_hash = None
        elif isinstance(spec.password, str) and not _hash_still_valid(
            spec.password, row.password_hash
        ):
            row.password_hash = hash_password(spec.password)
        self._count("insurer_user", created=created)
        stored.save(self.unit, row)

    def partner(self, spec: PartnerSpec) -> None:
        row = stored.partner_by_id(self.unit, spec.id)
        created = row is None
        if row is None:
            row = ServicePartner(id=spec.id, name=spec.name, security_token=spec.security_token)
            row.companies = []
        row.name = spec.name
        row.security_token = spec.security_token
        if isinstance(spec.companies, tuple):
            row.companies = [self._company(ref) for ref in spec.companies]
        self._count("service_partner", created=created)
        stored.save(self.unit, row)
        for employee in spec.employees:
            self._employee(row, employee)
        for client in spec.clients:
            self._client(client, partner=row)

    def _employee(self, partner: ServicePartner, spec: EmployeeSpec) -> None:
        row = stored.employee_by_email(self.unit, partner.id, spec.email)
        created = row is None
        if row is None:
            row = Employee(partner_id=partner.id, email=spec.email, active=True)
        row.email = spec.email
        if isinstance(spec.active, bool):
            row.active = spec.active
        self._count("employee", created=created)
        stored.save(self.unit, row)

    def _client(
        self,
        spec: ClientSpec,
        *,
        partner: ServicePartner | None = None,
        company: InsuranceCompany | None = None,
    ) -> None:
        """A client of ``partner`` or of ``company`` (give one)."""
        partner_id = None if partner is None else partner.id
        company_id = None if company is None else company.id
        row = clients.find_client(self.unit, spec.client_id)
        created = row is None
        if row is None:
            row = OAuthClient(
                client_id=spec.client_id,
                partner_id=partner_id,
                company_id=company_id,
                scopes="",
                secret_hash=None,
            )
        elif (row.partner_id, row.company_id) != (partner_id, company_id):
            raise FixtureError(
                f"{spec.path}.clientId: client {spec.client_id!r} belongs to another service "
                "partner or insurance company; a client cannot change owners"
            )
        row.scopes = " ".join(spec.scopes)
        if spec.secret is None:
            row.secret_hash = None
        elif isinstance(spec.secret, str) and not _hash_still_valid(spec.secret, row.secret_hash):
            row.secret_hash = hash_client_secret(spec.secret)
        self._count("client", created=created)
        stored.save(self.unit, row)
        for key in spec.keys:
            self._client_key(row, key)

    def _client_key(self, client: OAuthClient, spec: KeySpec) -> None:
        jwk = json.dumps(spec.key.jwk, sort_keys=True, separators=(",", ":"))
        existing = next((k for k in client.keys if k.kid == spec.key.kid), None)
        if existing is None:
            client.keys.append(
                ClientKey(
                    kid=spec.key.kid,
                    x5t=spec.key.x5t,
                    jwk=jwk,
                    certificate_pem=spec.key.certificate_pem,
                )
            )
            self._count("client_key", created=True)
        elif json.loads(existing.jwk) != spec.key.jwk:
            raise FixtureError(
                f"{spec.path}: kid {spec.key.kid!r} is already registered for client "
                f"{client.client_id!r} with a different key; give the new key its own kid"
            )
        else:
            self._count("client_key", created=False)
        stored.save(self.unit, client)

    def case(self, spec: CaseSpec) -> None:
        company = self._company(spec.company)
        row = stored.case_by_id(self.unit, spec.id)
        created = row is None
        if row is None:
            row = Case(id=spec.id, company_id=company.id, number=spec.number, status=CASE_OPEN)
            row.partners = []
        elif row.company_id != company.id:
            raise FixtureError(
                f"{spec.company.path}: case {spec.id} belongs to insurance company "
                f"{row.company.alias!r}; a case cannot move to another company"
            )
        row.number = spec.number
        if isinstance(spec.status, str):
            row.status = spec.status
        if isinstance(spec.partners, tuple):
            row.partners = [self._partner(ref) for ref in spec.partners]
        self._count("case", created=created)
        stored.save(self.unit, row)

    def damage_notification(self, spec: DamageNotificationSpec) -> None:
        company = self._company(spec.company)
        partner = self._partner(spec.partner)
        row = stored.damage_notification_by_id(self.unit, spec.id)
        created = row is None
        if row is None:
            row = DamageNotification(
                id=spec.id, company_id=company.id, partner_id=partner.id, merged_to_case_id=None
            )
            stored.save(self.unit, row)
        elif row.company_id != company.id:
            raise FixtureError(
                f"{spec.company.path}: damage notification {spec.id} belongs to insurance "
                f"company {row.company.alias!r}; it cannot move to another company"
            )
        elif row.partner_id != partner.id:
            raise FixtureError(
                f"{spec.partner.path}: damage notification {spec.id} was created by service "
                f"partner {row.partner_id}; its creator cannot change"
            )
        self._count("damage_notification", created=created)
        if spec.merged_to_case is not None:
            self._merge(row, spec.merged_to_case)

    def _merge(self, dn: DamageNotification, target: Ref[uuid.UUID]) -> None:
        case = stored.case_by_id(self.unit, target.value)
        if case is None:
            raise FixtureError(f"{target.path}: unknown case {target.value}")
        was_merged = dn.merged_to_case_id is not None
        try:
            merge_into_case(self.unit, dn, case)
        except ConflictError as error:
            raise FixtureError(f"{target.path}: {error}") from None
        if not was_merged:
            self.report.merged += 1

    def _company(self, ref: Ref[str]) -> InsuranceCompany:
        row = self._company_by_alias(ref.value)
        if row is None:
            raise FixtureError(f"{ref.path}: unknown insurance company {ref.value!r}")
        return row

    def _company_by_alias(self, alias: str) -> InsuranceCompany | None:
        return stored.company_by_alias(self.unit, alias)

    def _partner(self, ref: Ref[uuid.UUID]) -> ServicePartner:
        row = stored.partner_by_id(self.unit, ref.value)
        if row is None:
            raise FixtureError(f"{ref.path}: unknown service partner {ref.value}")
        return row


def _hash_still_valid(secret: str, stored_hash: str | None) -> bool:
    # Re-hashing an unchanged secret would be harmless but makes every load write.
    return (
        stored_hash is not None
        and verify_client_secret(secret, stored_hash)
        and not secret_needs_rehash(stored_hash)
    )
