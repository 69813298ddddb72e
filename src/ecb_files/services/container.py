"""Wiring: one ``Services`` value per process, built from ``Settings`` — no globals."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ecb_files.config import Settings
from ecb_files.db import Database
from ecb_files.services.acceptance import Acceptance
from ecb_files.services.bearer import BearerGate
from ecb_files.services.idempotency import Idempotency
from ecb_files.services.keys import KeyRing, ensure_signing_key
from ecb_files.services.submit import SubmitService
from ecb_files.services.tokens import TokenService
from ecb_files.services.trusted_issuers import TrustedIssuers
from ecb_files.storage import BlobStore, open_store


@dataclass
class Services:
    settings: Settings
    database: Database
    engine: Engine
    factory: sessionmaker[Session]
    store: BlobStore
    keys: KeyRing
    bearer: BearerGate
    tokens: TokenService
    idempotency: Idempotency
    submit: SubmitService

    @classmethod
    def build(cls, settings: Settings, *, migrate: bool = True) -> Services:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        database = Database.open(settings.database_url, migrate=migrate)
        engine, factory = database.engine, database.sessions
        ensure_signing_key(factory)
        store = open_store(settings.storage_url, s3_endpoint_url=settings.s3_endpoint_url)
        keys = KeyRing(factory, keep_seconds=settings.token_lifetime_seconds)
        idempotency = Idempotency(
            database,
            ttl_seconds=settings.idempotency_ttl_seconds,
            lease_seconds=settings.idempotency_lease_seconds,
        )
        return cls(
            settings=settings,
            database=database,
            engine=engine,
            factory=factory,
            store=store,
            keys=keys,
            bearer=BearerGate(keys, settings, _trusted_issuers(settings)),
            tokens=TokenService(factory, keys, settings),
            idempotency=idempotency,
            submit=SubmitService(
                store,
                settings.limits,
                idempotency,
                Acceptance(database, idempotency),
                small_file_bytes=settings.small_file_bytes,
            ),
        )

    def check_ready(self) -> dict[str, str]:
        """Probe the database and the storage; ``ServiceUnavailable`` names the first down."""
        self.database.ping()
        self.store.check()
        return {"database": "ok", "storage": "ok"}

    def close(self) -> None:
        self.idempotency.close()
        self.database.close()


def _trusted_issuers(settings: Settings) -> TrustedIssuers:
    return TrustedIssuers(
        settings.trusted_issuers,
        audience=settings.token_audience,
        skew=settings.clock_skew_seconds,
    )
