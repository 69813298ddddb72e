"""Wiring: one ``Services`` value per process, built from ``Settings`` — no globals."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from ecb_files.config import Settings
from ecb_files.db.errors import database_unavailable_as_503
from ecb_files.db.migrate import upgrade
from ecb_files.db.session import make_engine, make_session_factory
from ecb_files.errors import ServiceUnavailable
from ecb_files.services.bearer import BearerGate
from ecb_files.services.idempotency import IdempotencyStore
from ecb_files.services.keys import KeyRing, ensure_signing_key
from ecb_files.services.submit import SubmitService
from ecb_files.services.tokens import TokenService
from ecb_files.services.trusted_issuers import TrustedIssuers
from ecb_files.storage import BlobStore, StorageUnavailable, open_store


@dataclass
class Services:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    store: BlobStore
    keys: KeyRing
    bearer: BearerGate
    tokens: TokenService
    idempotency: IdempotencyStore
    submit: SubmitService

    @classmethod
    def build(cls, settings: Settings, *, migrate: bool = True) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.database_url)
        if migrate:
            upgrade(engine)
        factory = make_session_factory(engine)
        ensure_signing_key(factory)
        store = open_store(settings.storage_url, s3_endpoint_url=settings.s3_endpoint_url)
        keys = KeyRing(factory, keep_seconds=settings.token_lifetime_seconds)
        idempotency = IdempotencyStore(
            factory,
            ttl_seconds=settings.idempotency_ttl_seconds,
            lease_seconds=settings.idempotency_lease_seconds,
        )
        return cls(
            settings=settings,
            engine=engine,
            factory=factory,
            store=store,
            keys=keys,
            bearer=BearerGate(keys, settings, _trusted_issuers(settings)),
            tokens=TokenService(factory, keys, settings),
            idempotency=idempotency,
            submit=SubmitService(factory, store, settings.limits, idempotency),
        )

    def check_ready(self) -> dict[str, str]:
        """Probe the database and the storage; ``ServiceUnavailable`` names the first down."""
        with database_unavailable_as_503(), self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        try:
            self.store.check()
        except StorageUnavailable as error:
            raise ServiceUnavailable(
                "the file storage is unavailable", reason="storage_unavailable"
            ) from error
        return {"database": "ok", "storage": "ok"}

    def close(self) -> None:
        self.engine.dispose()


def _trusted_issuers(settings: Settings) -> TrustedIssuers:
    return TrustedIssuers(
        settings.trusted_issuers,
        audience=settings.token_audience,
        skew=settings.clock_skew_seconds,
    )
