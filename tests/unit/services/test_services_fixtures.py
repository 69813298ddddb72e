"""``load_fixtures`` (§5 fixture format, §9 "Command line")."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select
from tests.db_support import World, add_file

from ecb_files.auth.secrets import verify_client_secret
from ecb_files.db import Database, models
from ecb_files.services.fixtures import FixtureError, load_fixtures, read_fixture_file
from ecb_files.storage import LocalBlobStore

EXAMPLE = Path(__file__).parents[3] / "examples" / "demo-fixtures.json"
PARTNER = "2b1f0e6c-0000-4000-8000-000000000001"
OPEN_CASE = "5d3c2b1a-0000-4000-8000-000000000001"
CLOSED_CASE = "5d3c2b1a-0000-4000-8000-000000000002"
OPEN_DN = "7b0e6f7e-0000-4000-8000-000000000001"
MERGED_DN = "7b0e6f7e-0000-4000-8000-000000000002"
SECRET = "demo-partner-secret"
# The demo's partner client (the insurer's client has a secret too, §11.1).
_OF_PARTNER = models.OAuthClient.partner_id.is_not(None)
_PARTNER_CLIENT_SECRET = select(models.OAuthClient.secret_hash).where(_OF_PARTNER)


@pytest.fixture
def demo() -> dict[str, Any]:
    return dict(json.loads(EXAMPLE.read_text(encoding="utf-8")))


def _certificate(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "demo-partner")])
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(Encoding.PEM).decode()


def _ec_jwk(kid: str) -> dict[str, str]:
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()

    return {"kty": "EC", "crv": "P-256", "x": b64(numbers.x), "y": b64(numbers.y), "kid": kid}


@pytest.fixture(scope="module")
def certificate() -> str:
    return _certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _client(document: dict[str, Any]) -> dict[str, Any]:
    return dict(document["servicePartners"][0]["clients"][0])


def _counts(database: Database) -> dict[str, int]:
    tables = [
        models.InsuranceCompany,
        models.ServicePartner,
        models.Employee,
        models.OAuthClient,
        models.ClientKey,
        models.Case,
        models.DamageNotification,
    ]
    with database.write() as session:
        return {
            t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
            for t in tables
        }


def _dn(database: Database, dn_id: str) -> models.DamageNotification:
    with database.write() as session:
        row = session.get(models.DamageNotification, uuid.UUID(dn_id))
        assert row is not None
        return row


def test_demo_fixture_loads(database: Database, demo: dict[str, Any]) -> None:
    report = load_fixtures(database, demo)
    assert _counts(database) == {
        "insurance_companies": 1,
        "service_partners": 1,
        "employees": 1,
        "oauth_clients": 2,
        "client_keys": 0,
        "cases": 2,
        "damage_notifications": 2,
    }
    assert report.created["case"] == 2
    assert report.merged == 1
    assert str(_dn(database, MERGED_DN).merged_to_case_id) == OPEN_CASE
    assert _dn(database, OPEN_DN).merged_to_case_id is None


def test_loading_twice_changes_nothing(database: Database, demo: dict[str, Any]) -> None:
    """§5: safe to run twice."""
    load_fixtures(database, demo)
    with database.write() as session:
        first_hash = session.scalar(_PARTNER_CLIENT_SECRET)
    counts = _counts(database)
    report = load_fixtures(database, demo)
    assert sum(report.created.values()) == 0
    assert report.merged == 0
    assert _counts(database) == counts
    with database.write() as session:
        assert session.scalar(_PARTNER_CLIENT_SECRET) == first_hash


def test_client_secret_is_stored_hashed(database: Database, demo: dict[str, Any]) -> None:
    load_fixtures(database, demo)
    with database.write() as session:
        stored = session.scalar(_PARTNER_CLIENT_SECRET)
    assert stored is not None
    assert SECRET not in stored
    assert verify_client_secret(SECRET, stored)


def test_changed_secret_replaces_the_hash(database: Database, demo: dict[str, Any]) -> None:
    load_fixtures(database, demo)
    demo["servicePartners"][0]["clients"][0]["clientSecret"] = "a-new-secret"
    load_fixtures(database, demo)
    with database.write() as session:
        stored = session.scalar(_PARTNER_CLIENT_SECRET)
    assert verify_client_secret("a-new-secret", stored)
    assert not verify_client_secret(SECRET, stored)


def test_omitted_secret_keeps_it_and_null_removes_it(
    database: Database, demo: dict[str, Any]
) -> None:
    load_fixtures(database, demo)
    del demo["servicePartners"][0]["clients"][0]["clientSecret"]
    load_fixtures(database, demo)
    with database.write() as session:
        assert session.scalar(_PARTNER_CLIENT_SECRET) is not None
    demo["servicePartners"][0]["clients"][0]["clientSecret"] = None
    load_fixtures(database, demo)
    with database.write() as session:
        assert session.scalar(_PARTNER_CLIENT_SECRET) is None


def test_merged_dn_stays_merged_when_the_fixture_says_null(
    database: Database, demo: dict[str, Any]
) -> None:
    """§9: loading a fixture again keeps a merged DN merged."""
    load_fixtures(database, demo)
    for dn in demo["damageNotifications"]:
        dn["mergedToCaseId"] = None
    load_fixtures(database, demo)
    assert str(_dn(database, MERGED_DN).merged_to_case_id) == OPEN_CASE


def test_fixture_merge_moves_the_dn_files_and_makes_them_public(
    database: Database, demo: dict[str, Any], tmp_path: Path
) -> None:
    """§1: merging moves the DN's files to the case, all public."""
    load_fixtures(database, demo)
    with database.write() as session:
        employee = session.scalars(select(models.Employee)).one()
        client = session.scalars(select(models.OAuthClient).where(_OF_PARTNER)).one()
    world = World(0, 0, employee.id, client.id, partner_id=uuid.UUID(PARTNER))
    store = LocalBlobStore(tmp_path / "blobs")
    stored = add_file(database, store, world, dn_id=uuid.UUID(OPEN_DN), restricted=True)
    demo["damageNotifications"][0]["mergedToCaseId"] = CLOSED_CASE
    report = load_fixtures(database, demo)
    assert report.merged == 1
    with database.write() as session:
        row = session.get(models.StoredFile, stored.id)
        assert row is not None
        assert str(row.case_id) == CLOSED_CASE
        assert row.dn_id is None  # moved: the case is its one parent now
        assert row.is_restricted is False


def test_dn_merged_elsewhere_is_refused_and_nothing_written(
    database: Database, demo: dict[str, Any]
) -> None:
    load_fixtures(database, demo)
    demo["damageNotifications"][1]["mergedToCaseId"] = CLOSED_CASE
    demo["insuranceCompanies"][0]["name"] = "Renamed"
    with pytest.raises(
        FixtureError, match=r"damageNotifications\[1\]\.mergedToCaseId: .*already merged"
    ):
        load_fixtures(database, demo)
    with database.write() as session:
        assert session.scalar(select(models.InsuranceCompany.name)) == "Company Insurance"


def test_omitted_status_keeps_the_stored_status(database: Database, demo: dict[str, Any]) -> None:
    load_fixtures(database, demo)
    del demo["cases"][1]["status"]
    load_fixtures(database, demo)
    with database.write() as session:
        rows = session.execute(select(models.Case.number, models.Case.status)).all()
    statuses = {row.number: row.status for row in rows}
    assert statuses == {"CN-1001": "open", "CN-1002": "closed"}


def test_explicit_status_is_applied(database: Database, demo: dict[str, Any]) -> None:
    load_fixtures(database, demo)
    demo["cases"][1]["status"] = "open"
    load_fixtures(database, demo)
    with database.write() as session:
        assert set(session.scalars(select(models.Case.status))) == {"open"}


def test_signing_keys_are_not_touched(database: Database, demo: dict[str, Any]) -> None:
    """§9: reloading keeps issued tokens valid."""
    now = dt.datetime.now(dt.UTC)
    with database.write() as session:
        session.add(models.SigningKey(kid="k1", private_pem="pem", created_at=now))
    load_fixtures(database, demo)
    load_fixtures(database, demo)
    with database.write() as session:
        assert session.scalars(select(models.SigningKey.kid)).all() == ["k1"]


def test_certificates_and_jwks_become_client_keys(
    database: Database, demo: dict[str, Any], certificate: str
) -> None:
    client = demo["servicePartners"][0]["clients"][0]
    client["certificates"] = [certificate]
    client["jwks"] = {"keys": [_ec_jwk("ec-1")]}
    load_fixtures(database, demo)
    load_fixtures(database, demo)
    with database.write() as session:
        keys = session.scalars(select(models.ClientKey).order_by(models.ClientKey.id)).all()
    assert len(keys) == 2
    assert keys[0].certificate_pem is not None
    assert keys[0].x5t == keys[0].kid
    assert json.loads(keys[0].jwk)["kty"] == "RSA"
    assert keys[1].kid == "ec-1"
    assert "d" not in json.loads(keys[1].jwk)


def test_a_new_key_is_added_beside_the_registered_ones(
    database: Database, demo: dict[str, Any]
) -> None:
    """Key rotation: the client may hold several keys; a reload never drops one."""
    client = demo["servicePartners"][0]["clients"][0]
    client["jwks"] = {"keys": [_ec_jwk("old")]}
    load_fixtures(database, demo)
    client["jwks"] = {"keys": [_ec_jwk("new")]}
    load_fixtures(database, demo)
    with database.write() as session:
        assert set(session.scalars(select(models.ClientKey.kid))) == {"old", "new"}


def test_a_different_key_under_a_registered_kid_is_refused(
    database: Database, demo: dict[str, Any]
) -> None:
    client = demo["servicePartners"][0]["clients"][0]
    client["jwks"] = {"keys": [_ec_jwk("k")]}
    load_fixtures(database, demo)
    client["jwks"] = {"keys": [_ec_jwk("k")]}
    with pytest.raises(
        FixtureError, match=r"clients\[0\]\.jwks\.keys\[0\]: kid 'k' is already registered"
    ):
        load_fixtures(database, demo)


def test_a_client_of_another_partner_is_refused(database: Database, demo: dict[str, Any]) -> None:
    load_fixtures(database, demo)
    second = copy.deepcopy(demo["servicePartners"][0])
    second["id"] = "2b1f0e6c-0000-4000-8000-000000000099"
    second["employees"] = []
    demo["servicePartners"] = [second]
    with pytest.raises(
        FixtureError,
        match=r"servicePartners\[0\]\.clients\[0\]\.clientId: .*another service partner",
    ):
        load_fixtures(database, demo)


def test_employee_email_is_matched_case_insensitively_on_reload(
    database: Database, demo: dict[str, Any]
) -> None:
    load_fixtures(database, demo)
    demo["servicePartners"][0]["employees"][0] = {
        "email": "Company_DS@Example.com",
        "active": False,
    }
    load_fixtures(database, demo)
    with database.write() as session:
        employee = session.scalars(select(models.Employee)).one()
    assert (employee.email, employee.active) == ("Company_DS@Example.com", False)


def _set(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    target: Any = document
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if value is _DELETE:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return document


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "servicePartners[0].securityToken",
            "not-a-guid",
            r"servicePartners\[0\]\.securityToken: not a GUID",
        ),
        ("servicePartners[0].id", 42, r"servicePartners\[0\]\.id: not a GUID \(a number\)"),
        ("insuranceCompanies[0].alias", _DELETE, r"insuranceCompanies\[0\]\.alias: required"),
        ("insuranceCompanies[0].alias", "", r"insuranceCompanies\[0\]\.alias: must not be empty"),
        ("insuranceCompanies[0].alias", "x" * 101, r"alias: longer than 100 characters"),
        ("insuranceCompanies[0].nmae", "typo", r"insuranceCompanies\[0\]\.nmae: unknown member"),
        (
            "insuranceCompanies[0].fnolSchema",
            {"$ref": "https://example.com/s.json"},
            r"insuranceCompanies\[0\]\.fnolSchema: schema\.\$ref: .* refers outside the schema",
        ),
        (
            "insuranceCompanies[0].fnolSchema",
            [],
            r"insuranceCompanies\[0\]\.fnolSchema: an FNoL schema must be a JSON object",
        ),
        (
            "servicePartners[0].employees[0].email",
            "nobody",
            r"employees\[0\]\.email: 'nobody' is not an e-mail",
        ),
        (
            "servicePartners[0].employees[0].active",
            "yes",
            r"employees\[0\]\.active: must be true or false",
        ),
        ("servicePartners[0].clients[0].scopes", _DELETE, r"clients\[0\]\.scopes: required"),
        (
            "servicePartners[0].clients[0].scopes",
            ["a b"],
            r"clients\[0\]\.scopes\[0\]: a scope is one word",
        ),
        (
            "servicePartners[0].clients[0].certificates",
            ["junk"],
            r"clients\[0\]\.certificates\[0\]: certificate must be a PEM",
        ),
        (
            "servicePartners[0].clients[0].jwks",
            {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]},
            r"clients\[0\]\.jwks\.keys\[0\]: JWK is a symmetric key",
        ),
        ("cases[0].status", "pending", r"cases\[0\]\.status: must be 'open' or 'closed'"),
        ("cases[1].id", OPEN_CASE, r"cases\[1\]\.id: duplicate case id \(first at cases\[0\]\)"),
        (
            "cases[0].servicePartners",
            [PARTNER, "x"],
            r"cases\[0\]\.servicePartners\[1\]: not a GUID",
        ),
        (
            "damageNotifications[0].mergedToCaseId",
            "{" + OPEN_CASE + "}",
            r"mergedToCaseId: not a GUID",
        ),
        ("insuranceCompanies", {"alias": "x"}, r"insuranceCompanies: must be a JSON array"),
    ],
)
def test_invalid_document_names_the_path_and_writes_nothing(
    database: Database, demo: dict[str, Any], path: str, value: Any, message: str
) -> None:
    with pytest.raises(FixtureError, match=message):
        load_fixtures(database, _set(demo, path, value))
    assert sum(_counts(database).values()) == 0


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "cases[1].insuranceCompany",
            "nobody",
            r"cases\[1\]\.insuranceCompany: unknown insurance company 'nobody'",
        ),
        (
            "servicePartners[0].insuranceCompanies",
            ["company", "x"],
            r"insuranceCompanies\[1\]: unknown insurance company 'x'",
        ),
        (
            "damageNotifications[1].servicePartner",
            "2b1f0e6c-0000-4000-8000-000000000099",
            r"damageNotifications\[1\]\.servicePartner: unknown service partner",
        ),
        (
            "damageNotifications[1].mergedToCaseId",
            "5d3c2b1a-0000-4000-8000-000000000099",
            r"damageNotifications\[1\]\.mergedToCaseId: unknown case",
        ),
    ],
)
def test_unknown_reference_names_the_path_and_writes_nothing(
    database: Database, demo: dict[str, Any], path: str, value: Any, message: str
) -> None:
    with pytest.raises(FixtureError, match=message):
        load_fixtures(database, _set(demo, path, value))
    assert sum(_counts(database).values()) == 0


def test_references_may_name_objects_loaded_earlier(
    database: Database, demo: dict[str, Any]
) -> None:
    load_fixtures(database, demo)
    later = {
        "cases": [
            {
                "id": "5d3c2b1a-0000-4000-8000-000000000003",
                "insuranceCompany": "company",
                "number": "CN-3",
                "servicePartners": [PARTNER],
            }
        ]
    }
    report = load_fixtures(database, later)
    assert report.created["case"] == 1


def test_document_must_be_an_object(database: Database) -> None:
    with pytest.raises(FixtureError, match="must be a JSON object"):
        load_fixtures(database, [])  # type: ignore[arg-type]


def test_read_fixture_file_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "cases": [\n}', encoding="utf-8")
    with pytest.raises(FixtureError, match=r"bad\.json: not valid JSON: .*line 3"):
        read_fixture_file(bad)


def test_read_fixture_file_refuses_duplicate_keys(tmp_path: Path) -> None:
    dup = tmp_path / "dup.json"
    dup.write_text('{"cases": [], "cases": []}', encoding="utf-8")
    with pytest.raises(FixtureError, match=r"dup\.json: duplicate key 'cases'"):
        read_fixture_file(dup)


def test_dollar_members_are_ignored(database: Database, demo: dict[str, Any]) -> None:
    demo["$schema"] = "https://example.com/fixture.schema.json"
    demo["cases"][0]["$comment"] = "the open one"
    load_fixtures(database, demo)


def _users(database: Database) -> list[tuple[str, str, bool, str | None]]:
    with database.read() as session:
        rows = session.scalars(select(models.InsurerUser).order_by(models.InsurerUser.id))
        return [(u.email, u.role, u.active, u.password_hash) for u in rows]


def test_insurer_users_are_created_with_a_hashed_password(
    database: Database, demo: dict[str, Any]
) -> None:
    """§11.3: insuranceCompanies[].users; the password is kept only as argon2id."""
    load_fixtures(database, demo)
    [(email, role, active, password_hash)] = _users(database)
    assert (email, role, active) == ("handler@company.example", "handler", True)
    assert password_hash is not None
    assert password_hash.startswith("$argon2id$")
    assert verify_client_secret("demo-handler-password", password_hash)


def test_loading_users_twice_keeps_their_hash(database: Database, demo: dict[str, Any]) -> None:
    load_fixtures(database, demo)
    first = _users(database)
    report = load_fixtures(database, demo)
    assert _users(database) == first
    assert report.created["insurer_user"] == 0


def test_insurer_clients_belong_to_their_company(database: Database, demo: dict[str, Any]) -> None:
    """§11.1: an insurer client has the company as its owner, no partner."""
    load_fixtures(database, demo)
    with database.read() as session:
        client = session.scalars(
            select(models.OAuthClient).where(models.OAuthClient.client_id == "demo-insurer")
        ).one()
        assert client.partner_id is None
        assert client.company_id is not None
        assert client.scopes == "platform-insurer:read platform-insurer:write"


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("insuranceCompanies[0].clients[0].scopes[0]", "platform-service-provider:write"),
        ("servicePartners[0].clients[0].scopes[0]", "platform-insurer:read"),
    ],
)
def test_a_scope_of_the_other_kind_of_owner_is_refused(
    database: Database, demo: dict[str, Any], path: str, scope: str
) -> None:
    document = copy.deepcopy(demo)
    owner = path.split(".")[0].split("[")[0]
    document[owner][0]["clients"][0]["scopes"] = [scope]
    with pytest.raises(FixtureError, match=re.escape(f"{path}: {scope} is not a scope")):
        load_fixtures(database, document)


def test_a_client_cannot_move_from_a_partner_to_a_company(
    database: Database, demo: dict[str, Any]
) -> None:
    load_fixtures(database, demo)
    document = copy.deepcopy(demo)
    document["insuranceCompanies"][0]["clients"][0]["clientId"] = "demo-partner"
    document["servicePartners"][0]["clients"] = []
    with pytest.raises(FixtureError, match="cannot change owners"):
        load_fixtures(database, document)


def test_an_unknown_role_is_refused(database: Database, demo: dict[str, Any]) -> None:
    document = copy.deepcopy(demo)
    document["insuranceCompanies"][0]["users"][0]["role"] = "admin"
    with pytest.raises(FixtureError, match=r"users\[0\]\.role: must be"):
        load_fixtures(database, document)
