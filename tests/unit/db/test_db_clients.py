"""The token endpoint's client lookup and used assertions (§2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from tests.db_support import CLIENT_ID, PARTNER, World

from ecb_files.db import Database, clients, models

LATER = datetime(2030, 1, 1, tzinfo=UTC)


def test_find_client_by_its_exact_client_id(database: Database, world: World) -> None:
    """§2: a client is named by its ``client_id``, matched exactly."""
    with database.read() as unit:
        client = clients.find_client(unit, CLIENT_ID)
        assert client is not None
        assert client.partner.id == PARTNER
        assert clients.find_client(unit, "no-such-client") is None
        assert clients.find_client(unit, CLIENT_ID.upper()) is None


def test_an_assertion_is_recorded_once(database: Database) -> None:
    """§2: a client assertion's ``jti`` is accepted once; a replay is told apart."""
    with database.write() as unit:
        assert clients.record_assertion_use(unit, "client", "jti-1", LATER) is True
    with database.write() as unit:
        assert clients.record_assertion_use(unit, "client", "jti-1", LATER) is False
        assert clients.record_assertion_use(unit, "other-client", "jti-1", LATER) is True


def test_a_refused_replay_leaves_the_unit_usable(database: Database) -> None:
    """§2: the replay is refused in a savepoint; the unit's other writes still commit."""
    with database.write() as unit:
        assert clients.record_assertion_use(unit, "client", "jti-1", LATER) is True
        assert clients.record_assertion_use(unit, "client", "jti-1", LATER) is False
        assert clients.record_assertion_use(unit, "client", "jti-2", LATER + timedelta(1))
    with database.read() as unit:
        jtis = unit.scalars(select(models.UsedAssertion.jti).order_by(models.UsedAssertion.jti))
        assert jtis.all() == ["jti-1", "jti-2"]
