"""Wiring, built from ``Settings`` — no globals. The one place the server and the
operator's command line get their use cases' dependencies from.

- ``Services.build``: the whole server stack (``api`` and ``ecb-files serve``): the
  database, the storage, the signing keys, token and bearer checks, idempotency, submit,
  and the read side (``reader``, ``insurer_actions``); the process's ``metrics``, given
  to the database and the storage as timing callbacks (§12.3), and the ``audit`` trail.
- ``Services.for_operator``: what the operator's commands need and no more — the
  database, migrated, and the storage opened on first use (``files get``, ``gc``) — so a
  command that changes a case neither makes signing keys nor reaches the storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from ecb_files.config import ConfigError, Settings
from ecb_files.db import Database
from ecb_files.scanning import Clamd, ClamdAddress
from ecb_files.services.acceptance import Acceptance
from ecb_files.services.archive import CaseArchives
from ecb_files.services.audit import AuditTrail
from ecb_files.services.auth_failures import AuthFailures
from ecb_files.services.bearer import BearerGate
from ecb_files.services.content import FileContent
from ecb_files.services.fnol import FnolService
from ecb_files.services.idempotency import Idempotency
from ecb_files.services.insurer_actions import InsurerActions
from ecb_files.services.keys import KeyRing, ensure_signing_key
from ecb_files.services.metrics import Metrics, metrics_from_env
from ecb_files.services.rate_limits import ClientLimits, RateLimiter
from ecb_files.services.reading import Reader
from ecb_files.services.sign_in import SignIn
from ecb_files.services.submit import SubmitService
from ecb_files.services.thumbnails import Thumbnails
from ecb_files.services.tokens import TokenService
from ecb_files.services.trusted_issuers import TrustedIssuers
from ecb_files.storage import BlobStore, open_store
from ecb_files.storage.timed import TimedBlobStore


@dataclass
class OperatorServices:
    settings: Settings
    database: Database
    _store: BlobStore | None = field(default=None, repr=False)

    def store(self) -> BlobStore:
        """The blob storage, opened on first use (``ValueError`` for a bad storage URL)."""
        if self._store is None:
            self._store = _open_store(self.settings)
        return self._store

    def close(self) -> None:
        self.database.close()


@dataclass
class Services:
    settings: Settings
    database: Database
    store: BlobStore
    keys: KeyRing
    bearer: BearerGate
    tokens: TokenService
    idempotency: Idempotency
    submit: SubmitService
    fnol: FnolService
    reader: Reader
    insurer_actions: InsurerActions
    content: FileContent
    thumbnails: Thumbnails
    archives: CaseArchives
    sign_in: SignIn
    rate_limiter: RateLimiter
    client_limits: ClientLimits
    metrics: Metrics
    audit: AuditTrail
    # The malware scanner (§12.1), when ECB_FILES_CLAMD names one.
    clamd: Clamd | None = None

    @classmethod
    def build(
        cls, settings: Settings, *, migrate: bool = True, metrics: Metrics | None = None
    ) -> Services:
        """``metrics``: this process's (default: from ``PROMETHEUS_MULTIPROC_DIR``)."""
        metrics = metrics or metrics_from_env()
        database = _open_database(settings, migrate=migrate, metrics=metrics)
        try:
            return cls._on(database, settings, metrics)
        except BaseException:
            database.close()
            raise

    @staticmethod
    def for_operator(settings: Settings) -> OperatorServices:
        """The operator's commands' services: the database brought to the newest schema."""
        return OperatorServices(settings, Database.open(settings.database_url))

    @classmethod
    def _on(cls, database: Database, settings: Settings, metrics: Metrics) -> Services:
        ensure_signing_key(database)
        store: BlobStore = TimedBlobStore(_open_store(settings), metrics.storage_timings)
        keys = KeyRing(database, keep_seconds=settings.token_lifetime_seconds)
        idempotency = Idempotency(
            database,
            ttl_seconds=settings.idempotency_ttl_seconds,
            lease_seconds=settings.idempotency_lease_seconds,
        )
        acceptance = Acceptance(database, idempotency, metrics)
        content = FileContent(database, store)
        clamd = _clamd(settings)
        reader = Reader(database)
        return cls(
            settings=settings,
            database=database,
            store=store,
            keys=keys,
            bearer=BearerGate(keys, settings, _trusted_issuers(settings)),
            tokens=TokenService(
                database, keys, settings, AuthFailures(database, settings.rate_limits)
            ),
            idempotency=idempotency,
            submit=SubmitService(
                store,
                settings.limits,
                idempotency,
                acceptance,
                small_file_bytes=settings.small_file_bytes,
                scanners=clamd,
            ),
            fnol=FnolService(
                database,
                store,
                settings.limits,
                idempotency,
                acceptance.commits,
                small_file_bytes=settings.small_file_bytes,
                scanners=clamd.scanner if clamd is not None else None,
                metrics=metrics,
            ),
            reader=reader,
            insurer_actions=InsurerActions(database),
            content=content,
            thumbnails=Thumbnails(database, store, content),
            archives=CaseArchives(reader, content),
            sign_in=SignIn(database, lifetime=timedelta(hours=settings.ui_session_hours)),
            rate_limiter=RateLimiter(database, commits=acceptance.commits),
            client_limits=ClientLimits(settings.rate_limits, settings.limits.max_request_bytes),
            clamd=clamd,
            metrics=metrics,
            audit=AuditTrail(database),
        )

    def check_ready(self) -> dict[str, str]:
        """Probe the database, the storage and the malware scanner if there is one;
        ``ServiceUnavailable`` names the first down (uploads fail closed without it)."""
        self.database.ping()
        self.store.check()
        if self.clamd is None:
            return {"database": "ok", "storage": "ok"}
        self.clamd.ping()
        return {"database": "ok", "storage": "ok", "scanner": "ok"}

    def close(self) -> None:
        self.submit.close()
        self.idempotency.close()
        self.database.close()
        self.metrics.close()


def _clamd(settings: Settings) -> Clamd | None:
    if not settings.clamd:
        return None
    try:
        address = ClamdAddress.parse(settings.clamd)
    except ValueError as error:
        raise ConfigError(f"ECB_FILES_CLAMD: {error}") from None
    return Clamd(address, timeout=settings.clamd_timeout_seconds)


def _open_database(settings: Settings, *, migrate: bool, metrics: Metrics) -> Database:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database.open(
        settings.database_url, migrate=migrate, serving=True, timings=metrics.db_timings
    )


def _open_store(settings: Settings) -> BlobStore:
    return open_store(settings.storage_url, s3_endpoint_url=settings.s3_endpoint_url)


def _trusted_issuers(settings: Settings) -> TrustedIssuers:
    return TrustedIssuers(
        settings.trusted_issuers,
        audience=settings.token_audience,
        skew=settings.clock_skew_seconds,
    )
