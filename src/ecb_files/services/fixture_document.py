"""The fixture document of ``ecb-files load`` (§5), read and checked as a whole.

``parse_fixture`` turns the JSON value into typed specs, or raises ``FixtureError`` whose
message starts with the JSON path of the first fault (``servicePartners[0].securityToken:
not a GUID``). It touches no database, so a bad document is refused before anything is
written. References to objects *not* in the document (an insurance company loaded
earlier) are resolved later, by the loader, against the database.

An omitted ``fnolSchema`` keeps the tenant's FNoL schema, ``null`` returns it to the
built-in default (§10.2). An omitted (or ``null``) ``status``, ``active``,
``insuranceCompanies`` (of a partner) or ``servicePartners`` (of a case) keeps what is
stored, and a new object gets the default (open, active, none). An omitted
``clientSecret`` keeps the stored one; ``null`` removes it; the same for a user's
``password``. A partner's client may hold the partner scopes only, an insurance
company's (``insuranceCompanies[].clients``, §11.1) the insurer scopes only.

Members whose name starts with ``$`` (``$schema``, ``$comment``) are ignored; any other
unknown member is an error, as a typo would otherwise be silently lost.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from ecb_files.auth.client_keys import ClientPublicKey, key_from_certificate, key_from_jwk
from ecb_files.db.models import CASE_CLOSED, CASE_OPEN, ROLE_HANDLER, ROLE_VIEWER, email_key
from ecb_files.domain import rules
from ecb_files.domain.fnol_schema import FnolSchemaError, fnol_schema_text
from ecb_files.domain.json_paths import json_kind
from ecb_files.domain.scopes import foreign_scope

# Column sizes of ecb_files.db.models.
MAX_ALIAS = 100
MAX_NAME = 200
MAX_EMAIL = 320
MAX_CLIENT_ID = 200
MAX_CASE_NUMBER = 100
MAX_KEY_ID = 200


class FixtureError(ValueError):
    """A fixture document is invalid; the message starts with the offending JSON path."""


class _Keep:
    """Marks an optional member the document left out: the stored value is kept."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


T = TypeVar("T")


@dataclass(frozen=True)
class Ref(Generic[T]):
    """A reference to another object, with the path to name when it does not resolve."""

    path: str
    value: T


@dataclass(frozen=True)
class EmployeeSpec:
    path: str
    email: str
    active: bool | _Keep


@dataclass(frozen=True)
class UserSpec:
    """An insurer user (§11.1); an omitted role, password or active flag keeps the
    stored one (a new user: handler, no password, active)."""

    path: str
    email: str
    role: str | _Keep
    password: str | _Keep | None
    active: bool | _Keep


@dataclass(frozen=True)
class KeySpec:
    path: str
    key: ClientPublicKey


@dataclass(frozen=True)
class ClientSpec:
    path: str
    client_id: str
    scopes: tuple[str, ...]
    secret: str | _Keep | None
    keys: tuple[KeySpec, ...]


@dataclass(frozen=True)
class CompanySpec:
    path: str
    alias: str
    name: str
    # Whether the document sets the FNoL schema (§10.2), and to what: the JSON text to
    # store, or None for the built-in default.
    sets_fnol_schema: bool = False
    fnol_schema: str | None = None
    users: tuple[UserSpec, ...] = ()
    clients: tuple[ClientSpec, ...] = ()


@dataclass(frozen=True)
class PartnerSpec:
    path: str
    id: uuid.UUID
    name: str
    security_token: uuid.UUID
    companies: tuple[Ref[str], ...] | _Keep
    employees: tuple[EmployeeSpec, ...]
    clients: tuple[ClientSpec, ...]


@dataclass(frozen=True)
class CaseSpec:
    path: str
    id: uuid.UUID
    company: Ref[str]
    number: str
    status: str | _Keep
    partners: tuple[Ref[uuid.UUID], ...] | _Keep


@dataclass(frozen=True)
class DamageNotificationSpec:
    path: str
    id: uuid.UUID
    company: Ref[str]
    partner: Ref[uuid.UUID]
    merged_to_case: Ref[uuid.UUID] | None


@dataclass(frozen=True)
class FixtureDocument:
    companies: tuple[CompanySpec, ...]
    partners: tuple[PartnerSpec, ...]
    cases: tuple[CaseSpec, ...]
    damage_notifications: tuple[DamageNotificationSpec, ...]


def read_fixture_file(path: Path) -> Any:
    """The JSON value of a fixture file (UTF-8, BOM allowed; duplicate keys refused)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise FixtureError(f"{path}: not UTF-8 text") from None
    except OSError as error:
        raise FixtureError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
    except json.JSONDecodeError as error:
        raise FixtureError(
            f"{path}: not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except FixtureError as error:
        raise FixtureError(f"{path}: {error}") from None


def parse_fixture(data: Any) -> FixtureDocument:
    """Check the whole document and return it typed; raises ``FixtureError``."""
    root = _Object(data, "", "the fixture document")
    root.only("insuranceCompanies", "servicePartners", "cases", "damageNotifications")
    document = FixtureDocument(
        companies=tuple(_company(item) for item in root.objects("insuranceCompanies")),
        partners=tuple(_partner(item) for item in root.objects("servicePartners")),
        cases=tuple(_case(item) for item in root.objects("cases")),
        damage_notifications=tuple(
            _damage_notification(item) for item in root.objects("damageNotifications")
        ),
    )
    _check_unique(document)
    return document


def _company(obj: _Object) -> CompanySpec:
    obj.only("alias", "name", "fnolSchema", "users", "clients")
    sets_fnol_schema = obj.has("fnolSchema")
    fnol_schema = None
    if sets_fnol_schema:
        fnol_schema = _fnol_schema(obj.raw["fnolSchema"], obj.member("fnolSchema"))
    return CompanySpec(
        obj.path,
        obj.text("alias", max_chars=MAX_ALIAS),
        obj.text("name", max_chars=MAX_NAME),
        sets_fnol_schema,
        fnol_schema,
        users=tuple(_user(item) for item in obj.objects("users")),
        clients=tuple(_client(item, insurer=True) for item in obj.objects("clients")),
    )


def _user(obj: _Object) -> UserSpec:
    obj.only("email", "role", "password", "active")
    role: str | _Keep = KEEP
    if obj.given("role"):
        role = obj.text("role", max_chars=16)
        if role not in (ROLE_HANDLER, ROLE_VIEWER):
            raise FixtureError(f"{obj.member('role')}: must be 'handler' or 'viewer'")
    password: str | _Keep | None = KEEP
    if obj.has("password"):
        password = obj.optional_text("password")
    return UserSpec(
        obj.path,
        _email(obj),
        role,
        password,
        obj.boolean("active") if obj.given("active") else KEEP,
    )


def _fnol_schema(value: Any, path: str) -> str | None:
    """A tenant's FNoL schema, checked, as the JSON text to store; ``null``: the default."""
    if value is None:
        return None
    try:
        return fnol_schema_text(value)
    except FnolSchemaError as error:
        raise FixtureError(f"{path}: {error}") from None


def _partner(obj: _Object) -> PartnerSpec:
    obj.only("id", "name", "securityToken", "insuranceCompanies", "employees", "clients")
    companies: tuple[Ref[str], ...] | _Keep = KEEP
    if obj.given("insuranceCompanies"):
        companies = tuple(obj.texts("insuranceCompanies", max_chars=MAX_ALIAS))
    return PartnerSpec(
        path=obj.path,
        id=obj.guid("id"),
        name=obj.text("name", max_chars=MAX_NAME),
        security_token=obj.guid("securityToken"),
        companies=companies,
        employees=tuple(_employee(item) for item in obj.objects("employees")),
        clients=tuple(_client(item) for item in obj.objects("clients")),
    )


def _employee(obj: _Object) -> EmployeeSpec:
    obj.only("email", "active")
    email = _email(obj)
    return EmployeeSpec(obj.path, email, obj.boolean("active") if obj.given("active") else KEEP)


def _email(obj: _Object) -> str:
    email = obj.text("email", max_chars=MAX_EMAIL)
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain.strip(".") or any(c.isspace() for c in email):
        raise FixtureError(f"{obj.member('email')}: {email!r} is not an e-mail address")
    return email


def _client(obj: _Object, *, insurer: bool = False) -> ClientSpec:
    obj.only("clientId", "scopes", "clientSecret", "certificates", "jwks")
    scopes = []
    for ref in obj.texts("scopes", max_chars=MAX_NAME, required=True):
        if any(c.isspace() or not c.isprintable() for c in ref.value):
            raise FixtureError(f"{ref.path}: a scope is one word without spaces")
        if foreign_scope([ref.value], insurer=insurer):
            owner = "an insurance company's" if insurer else "a service partner's"
            raise FixtureError(f"{ref.path}: {ref.value} is not a scope {owner} client may hold")
        scopes.append(ref.value)
    secret: str | _Keep | None = KEEP
    if obj.has("clientSecret"):
        secret = obj.optional_text("clientSecret")
    keys = [_key(ref.path, ref.value, key_from_certificate) for ref in obj.texts("certificates")]
    if obj.given("jwks"):
        jwks = obj.object("jwks")
        jwks.only("keys")
        keys.extend(_key(item.path, item.raw, key_from_jwk) for item in jwks.objects("keys"))
    by_kid: dict[str, KeySpec] = {}
    for spec in keys:
        earlier = by_kid.setdefault(spec.key.kid, spec)
        if earlier is not spec and earlier.key.jwk != spec.key.jwk:
            raise FixtureError(
                f"{spec.path}: kid {spec.key.kid!r} is already used by {earlier.path} "
                "for a different key"
            )
    return ClientSpec(
        path=obj.path,
        client_id=obj.text("clientId", max_chars=MAX_CLIENT_ID),
        scopes=tuple(dict.fromkeys(scopes)),
        secret=secret,
        keys=tuple(by_kid.values()),
    )


def _key(path: str, value: Any, make: Callable[[Any], ClientPublicKey]) -> KeySpec:
    try:
        key = make(value)
    except ValueError as error:
        raise FixtureError(f"{path}: {error}") from None
    for name, member in (("kid", key.kid), ("x5t", key.x5t)):
        if member is not None and len(member) > MAX_KEY_ID:
            raise FixtureError(f"{path}: {name} is longer than {MAX_KEY_ID} characters")
    return KeySpec(path, key)


def _case(obj: _Object) -> CaseSpec:
    obj.only("id", "insuranceCompany", "number", "status", "servicePartners")
    status: str | _Keep = KEEP
    if obj.given("status"):
        status = obj.text("status", max_chars=16)
        if status not in (CASE_OPEN, CASE_CLOSED):
            raise FixtureError(f"{obj.member('status')}: must be 'open' or 'closed'")
    partners: tuple[Ref[uuid.UUID], ...] | _Keep = KEEP
    if obj.given("servicePartners"):
        partners = tuple(obj.guids("servicePartners"))
    return CaseSpec(
        path=obj.path,
        id=obj.guid("id"),
        company=obj.ref("insuranceCompany", max_chars=MAX_ALIAS),
        number=obj.text("number", max_chars=MAX_CASE_NUMBER),
        status=status,
        partners=partners,
    )


def _damage_notification(obj: _Object) -> DamageNotificationSpec:
    obj.only("id", "insuranceCompany", "servicePartner", "mergedToCaseId")
    merged: Ref[uuid.UUID] | None = None
    if obj.given("mergedToCaseId"):
        merged = Ref(obj.member("mergedToCaseId"), obj.guid("mergedToCaseId"))
    return DamageNotificationSpec(
        path=obj.path,
        id=obj.guid("id"),
        company=obj.ref("insuranceCompany", max_chars=MAX_ALIAS),
        partner=Ref(obj.member("servicePartner"), obj.guid("servicePartner")),
        merged_to_case=merged,
    )


def _check_unique(document: FixtureDocument) -> None:
    _unique("insurance company alias", ((c.path, "alias", c.alias) for c in document.companies))
    _unique("service partner id", ((p.path, "id", p.id) for p in document.partners))
    _unique(
        "client id",
        (
            (c.path, "clientId", c.client_id)
            for owned in (
                *(p.clients for p in document.partners),
                *(c.clients for c in document.companies),
            )
            for c in owned
        ),
    )
    for company in document.companies:
        _unique(
            "user e-mail (compared case-insensitively)",
            ((u.path, "email", email_key(u.email)) for u in company.users),
        )
    for partner in document.partners:
        _unique(
            "employee e-mail (compared case-insensitively)",
            ((e.path, "email", email_key(e.email)) for e in partner.employees),
        )
    _unique("case id", ((c.path, "id", c.id) for c in document.cases))
    _unique("damage notification id", ((d.path, "id", d.id) for d in document.damage_notifications))


def _unique(what: str, items: Iterable[tuple[str, str, object]]) -> None:
    seen: dict[object, str] = {}
    for path, member, value in items:
        first = seen.setdefault(value, path)
        if first != path:
            raise FixtureError(f"{path}.{member}: duplicate {what} (first at {first})")


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise FixtureError(f"duplicate key {key!r} in one JSON object")
        result[key] = value
    return result


class _Object:
    """A JSON object at a known path, read member by member with path-naming errors."""

    def __init__(self, raw: Any, path: str, what: str = "") -> None:
        if not isinstance(raw, Mapping):
            raise FixtureError(f"{path or what}: must be a JSON object")
        self.raw: Mapping[str, Any] = raw
        self.path = path

    def member(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def only(self, *names: str) -> None:
        for name in self.raw:
            if name not in names and not name.startswith("$"):
                raise FixtureError(
                    f"{self.member(name)}: unknown member (expected one of {', '.join(names)})"
                )

    def has(self, name: str) -> bool:
        return name in self.raw

    def given(self, name: str) -> bool:
        return self.raw.get(name) is not None

    def text(self, name: str, *, max_chars: int) -> str:
        if name not in self.raw:
            raise FixtureError(f"{self.member(name)}: required")
        return _text(self.raw[name], self.member(name), max_chars)

    def optional_text(self, name: str) -> str | None:
        value = self.raw.get(name)
        return None if value is None else _text(value, self.member(name), 10_000)

    def ref(self, name: str, *, max_chars: int) -> Ref[str]:
        return Ref(self.member(name), self.text(name, max_chars=max_chars))

    def guid(self, name: str) -> uuid.UUID:
        if name not in self.raw:
            raise FixtureError(f"{self.member(name)}: required")
        return _guid(self.raw[name], self.member(name))

    def boolean(self, name: str) -> bool:
        value = self.raw.get(name)
        if not isinstance(value, bool):
            raise FixtureError(f"{self.member(name)}: must be true or false")
        return value

    def object(self, name: str) -> _Object:
        return _Object(self.raw.get(name), self.member(name))

    def items(self, name: str, *, required: bool = False) -> Sequence[tuple[str, Any]]:
        if name not in self.raw and required:
            raise FixtureError(f"{self.member(name)}: required")
        value = self.raw.get(name)
        if value is None and not required:
            return ()
        if not isinstance(value, list):
            raise FixtureError(f"{self.member(name)}: must be a JSON array")
        return [(f"{self.member(name)}[{index}]", item) for index, item in enumerate(value)]

    def objects(self, name: str) -> list[_Object]:
        return [_Object(item, path) for path, item in self.items(name)]

    def texts(
        self, name: str, *, max_chars: int = 100_000, required: bool = False
    ) -> list[Ref[str]]:
        return [
            Ref(path, _text(item, path, max_chars))
            for path, item in self.items(name, required=required)
        ]

    def guids(self, name: str) -> list[Ref[uuid.UUID]]:
        return [Ref(path, _guid(item, path)) for path, item in self.items(name)]


def _text(value: Any, path: str, max_chars: int) -> str:
    if not isinstance(value, str):
        raise FixtureError(f"{path}: must be a string, not {json_kind(value)}")
    if not value.strip():
        raise FixtureError(f"{path}: must not be empty")
    if len(value) > max_chars:
        raise FixtureError(f"{path}: longer than {max_chars} characters")
    return value


def _guid(value: Any, path: str) -> uuid.UUID:
    if isinstance(value, str) and rules.is_guid(value):
        return uuid.UUID(value)
    shown = repr(value) if isinstance(value, str) else json_kind(value)
    raise FixtureError(f"{path}: not a GUID ({shown})")
