"""One frozen ``Settings`` value built from ``ECB_FILES_*`` variables; every default works."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

# Where ``ecb-files serve`` listens unless told otherwise.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
PUBLIC_URL_VARIABLE = "ECB_FILES_PUBLIC_URL"
# A host meaning "every address" is no address a client can use: a client on the same
# machine reaches such a server on the loopback address of the family.
LOOPBACK_FOR_ANY_ADDRESS: Mapping[str, str] = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104


class ConfigError(ValueError):
    """A configuration variable has a value the service cannot use."""


@dataclass(frozen=True)
class Limits:
    """Every size bound of a submission (§3.1, §4), checked the moment it is passed."""

    max_file_bytes: int = 100 * MIB
    max_request_bytes: int = 1024 * MIB
    max_files_per_request: int = 100
    max_file_name_chars: int = 500
    max_description_chars: int = 4000
    max_string_chars: int = 64 * 1024
    max_json_depth: int = 32
    # Duplicate detection keeps an object's keys, and each JSON value costs a Python
    # step: both are bounded so a body of a million tiny values cannot burn minutes.
    max_object_members: int = 1000
    max_json_values: int = 100_000
    max_idempotency_key_chars: int = 255
    # Multipart bodies (§10): the headers of one part together, and the parts a request
    # may have beyond its files (the submission or FNoL part, and room for extras).
    max_part_header_bytes: int = 16 * 1024
    max_extra_parts: int = 64
    # The FNoL part of a damage notification request (§10.2) is read whole (its JSON is
    # validated as one value and kept as sent), so it has a bound of its own.
    max_fnol_bytes: int = 1 * MIB

    @property
    def max_parts(self) -> int:
        """How many parts one multipart body may have (§10)."""
        return self.max_files_per_request + self.max_extra_parts

    def as_public_dict(self) -> dict[str, int]:
        """The limits as served by ``GET …/file/limits`` (camelCase, like the API)."""
        return {
            "maxFileBytes": self.max_file_bytes,
            "maxRequestBytes": self.max_request_bytes,
            "maxFilesPerRequest": self.max_files_per_request,
            "maxFileNameChars": self.max_file_name_chars,
            "maxDescriptionChars": self.max_description_chars,
            "maxStringChars": self.max_string_chars,
            "maxJsonDepth": self.max_json_depth,
            "maxObjectMembers": self.max_object_members,
            "maxJsonValues": self.max_json_values,
            "maxIdempotencyKeyChars": self.max_idempotency_key_chars,
            "maxPartHeaderBytes": self.max_part_header_bytes,
            "maxParts": self.max_parts,
            "maxFnolBytes": self.max_fnol_bytes,
        }


@dataclass(frozen=True)
class Rate:
    """``amount`` per ``seconds``: requests, or bytes for a byte rate (§12.2)."""

    amount: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.amount}/{_PERIOD_NAMES[self.seconds]}"


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RateLimits:
    """The §12.2 limits: per OAuth client on the submit and read endpoints (``None``:
    off), and the token endpoint's failed client authentications per address."""

    submissions: Rate | None = Rate(600, 60)
    submission_bytes: Rate | None = Rate(20 * GIB, 3600)
    reads: Rate | None = Rate(3000, 60)
    auth_failures_per_client: int = 10
    auth_failures_per_address: int = 30
    auth_failure_window_seconds: int = 300
    # Peers whose X-Forwarded-For names the client (a load balancer, a reverse proxy).
    trusted_proxies: tuple[IPNetwork, ...] = ()


def listen_url(host: str, port: int) -> str:
    """The URL at which a client on this machine reaches a server listening on host:port.

    An any-address host (``0.0.0.0``, ``::``, empty) becomes the loopback address of its
    family (``LOOPBACK_FOR_ANY_ADDRESS``); IPv6 literals go in brackets.
    """
    host = LOOPBACK_FOR_ANY_ADDRESS.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def public_url_for(env: Mapping[str, str], host: str, port: int) -> str:
    """The public URL of a server listening on host:port: ``ECB_FILES_PUBLIC_URL`` when it
    is set (it always wins), else where the server listens (:func:`listen_url`)."""
    configured = env.get(PUBLIC_URL_VARIABLE, "").strip()
    return (configured or listen_url(host, port)).rstrip("/")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""
    storage_url: str = ""
    s3_endpoint_url: str | None = None
    # The issuer and the base of the token endpoint. ``ecb-files serve`` sets it to where
    # it listens when ECB_FILES_PUBLIC_URL is not set (public_url_for); other commands
    # assume serve's default address.
    public_url: str = listen_url(DEFAULT_HOST, DEFAULT_PORT)
    token_audience: str = "ecb-files"  # noqa: S105 — an audience name, not a secret
    token_lifetime_seconds: int = 3600
    clock_skew_seconds: int = 60
    body_idle_timeout_seconds: float = 30.0
    # A body must average at least this many bytes per second of receiving once the
    # grace has passed (docs/behaviour.md §9; Kestrel's defaults); 0 turns it off.
    min_body_rate: int = 240
    min_body_rate_grace_seconds: float = 5.0
    idempotency_ttl_seconds: int = 24 * 3600
    # How long a dead process's in-flight key stays taken (§3.4 asks for < 60 s).
    idempotency_lease_seconds: int = 45
    trusted_issuers: tuple[tuple[str, str], ...] = ()
    # One line per request on stderr; off when a proxy in front already logs them.
    access_log: bool = True
    # The access log's form (§12.3): "text" lines as always, or "json" objects.
    log_format: str = "text"
    # GET /metrics (§12.3); off removes the endpoint.
    metrics: bool = True
    # Threads for blocking work (parsing, hashing, writes, the database); 0: chosen by
    # storage, see worker_threads_for.
    worker_threads: int = 0
    # Files up to this size are stored with their database row, committed with it
    # (storage/small_blobs.py); 0 sends every file to the blob store.
    small_file_bytes: int = 64 * 1024
    # How long a sign-in on the claims-handler page lasts (§11.3); sign-out ends it sooner.
    ui_session_hours: float = 8.0
    # clamd for the malware scan of every file (§12.1): tcp://host:port or unix:///path;
    # empty: files are not scanned. A scan waits at most clamd_timeout_seconds per step.
    clamd: str = ""
    clamd_timeout_seconds: float = 60.0
    limits: Limits = field(default_factory=Limits)
    rate_limits: RateLimits = field(default_factory=RateLimits)

    def __post_init__(self) -> None:
        # Derived defaults live beside the data dir, so one variable moves everything.
        if not self.database_url:
            url = f"sqlite:///{(self.data_dir / 'ecb-files.sqlite3').resolve()}"
            object.__setattr__(self, "database_url", url)
        if not self.storage_url:
            object.__setattr__(self, "storage_url", (self.data_dir / "blobs").resolve().as_uri())
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        if self.worker_threads <= 0:
            object.__setattr__(self, "worker_threads", worker_threads_for(self.storage_url))

    @property
    def issuer(self) -> str:
        return self.public_url

    @property
    def token_endpoint(self) -> str:
        return f"{self.public_url}/connect/token"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are sent over HTTPS only when the service is reached over HTTPS."""
        return self.public_url.lower().startswith("https://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        limits = Limits(
            max_file_bytes=_int(env, "ECB_FILES_MAX_FILE_BYTES", Limits.max_file_bytes),
            max_request_bytes=_int(env, "ECB_FILES_MAX_REQUEST_BYTES", Limits.max_request_bytes),
            max_files_per_request=_int(
                env, "ECB_FILES_MAX_FILES_PER_REQUEST", Limits.max_files_per_request
            ),
        )
        return cls(
            data_dir=Path(env.get("ECB_FILES_DATA_DIR") or "data"),
            database_url=env.get("ECB_FILES_DATABASE_URL", ""),
            storage_url=env.get("ECB_FILES_STORAGE_URL", ""),
            s3_endpoint_url=env.get("ECB_FILES_S3_ENDPOINT_URL") or None,
            public_url=env.get(PUBLIC_URL_VARIABLE, "").strip() or cls.public_url,
            token_audience=env.get("ECB_FILES_TOKEN_AUDIENCE") or cls.token_audience,
            token_lifetime_seconds=_int(
                env, "ECB_FILES_TOKEN_LIFETIME", cls.token_lifetime_seconds
            ),
            body_idle_timeout_seconds=float(
                _int(env, "ECB_FILES_BODY_IDLE_TIMEOUT", int(cls.body_idle_timeout_seconds))
            ),
            min_body_rate=_int(env, "ECB_FILES_MIN_BODY_RATE", cls.min_body_rate, minimum=0),
            min_body_rate_grace_seconds=_seconds(
                env, "ECB_FILES_MIN_BODY_RATE_GRACE", cls.min_body_rate_grace_seconds
            ),
            idempotency_lease_seconds=_int(
                env, "ECB_FILES_IDEMPOTENCY_LEASE", cls.idempotency_lease_seconds
            ),
            trusted_issuers=_issuers(env.get("ECB_FILES_TRUSTED_ISSUERS", "")),
            access_log=_bool(env, "ECB_FILES_ACCESS_LOG", cls.access_log),
            log_format=_choice(env, "ECB_FILES_LOG_FORMAT", LOG_FORMATS, cls.log_format),
            metrics=_bool(env, "ECB_FILES_METRICS", cls.metrics),
            worker_threads=_int(env, "ECB_FILES_WORKER_THREADS", 0),  # 0: by storage
            small_file_bytes=_int(
                env, "ECB_FILES_SMALL_FILE_BYTES", cls.small_file_bytes, minimum=0
            ),
            ui_session_hours=_hours(env, "ECB_FILES_UI_SESSION_HOURS", cls.ui_session_hours),
            clamd=_clamd(env.get("ECB_FILES_CLAMD", "")),
            clamd_timeout_seconds=float(
                _int(env, "ECB_FILES_CLAMD_TIMEOUT", int(cls.clamd_timeout_seconds))
            ),
            limits=limits,
            rate_limits=_rate_limits(env),
        )


# Local disk: few threads, since every thread's Python competes for one interpreter and
# a handful keep the disk busy (more measured slower: bench/README.md). Object storage:
# a thread waits on the network for each part it uploads, so many more.
LOCAL_WORKER_THREADS = 8
REMOTE_WORKER_THREADS = 32


def worker_threads_for(storage_url: str) -> int:
    local = storage_url.lower().startswith("file:")
    return LOCAL_WORKER_THREADS if local else REMOTE_WORKER_THREADS


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        shown = "positive" if minimum == 1 else f"at least {minimum}"
        raise ConfigError(f"{name} must be {shown}, got {value}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    return _positive_number(env, name, default, "seconds")


def _hours(env: Mapping[str, str], name: str, default: float) -> float:
    return _positive_number(env, name, default, "hours")


def _positive_number(env: Mapping[str, str], name: str, default: float, unit: str) -> float:
    """A positive, finite number (fractions allowed) of ``unit``, or ``default`` if unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of {unit}, got {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{name} must be a positive number of {unit}, got {raw!r}")
    return value


LOG_FORMATS = ("text", "json")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name} must be on or off (true/false, 1/0), got {raw!r}")


def _clamd(raw: str) -> str:
    url = raw.strip()
    if url and not url.lower().startswith(("tcp://", "unix://")):
        raise ConfigError(f"ECB_FILES_CLAMD must be tcp://host:port or unix:///path, got {raw!r}")
    return url


def _issuers(raw: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in raw.replace(",", " ").split():
        issuer, sep, jwks_url = item.partition("=")
        if not sep or not issuer or not jwks_url:
            raise ConfigError(
                f"ECB_FILES_TRUSTED_ISSUERS entries are issuer=jwks_url pairs, got {item!r}"
            )
        pairs.append((issuer.rstrip("/"), jwks_url))
    return tuple(pairs)


_PERIODS = {"second": 1, "minute": 60, "hour": 3600}
_PERIOD_NAMES = {seconds: name for name, seconds in _PERIODS.items()}
_BYTE_UNITS = {"": 1, "b": 1, "kib": KIB, "mib": MIB, "gib": GIB}
_RATE = re.compile(r"(\d+)\s*([a-z]*)\s*/\s*([a-z]+)")


def parse_rate(name: str, raw: str, default: Rate | None, *, of_bytes: bool = False) -> Rate | None:
    """``N/second|minute|hour`` (byte rates also ``NKiB``, ``NMiB``, ``NGiB``), or ``off``
    for no limit; empty means ``default``."""
    text = raw.strip().lower()
    if not text:
        return default
    if text == "off":
        return None
    what = "N[KiB|MiB|GiB]/second|minute|hour" if of_bytes else "N/second|minute|hour"
    match = _RATE.fullmatch(text)
    units = _BYTE_UNITS if of_bytes else {"": 1}
    if match is None or match[2] not in units or match[3] not in _PERIODS:
        raise ConfigError(f"{name} must be {what} or off, got {raw.strip()!r}")
    amount = int(match[1]) * units[match[2]]
    if amount < 1:
        raise ConfigError(f"{name} must allow at least 1 per period (or be off), got {raw!r}")
    return Rate(amount, _PERIODS[match[3]])


def _rate_limits(env: Mapping[str, str]) -> RateLimits:
    defaults = RateLimits()
    return RateLimits(
        submissions=parse_rate(
            "ECB_FILES_RATE_LIMIT", env.get("ECB_FILES_RATE_LIMIT", ""), defaults.submissions
        ),
        submission_bytes=parse_rate(
            "ECB_FILES_BYTE_RATE_LIMIT",
            env.get("ECB_FILES_BYTE_RATE_LIMIT", ""),
            defaults.submission_bytes,
            of_bytes=True,
        ),
        reads=parse_rate(
            "ECB_FILES_READ_RATE_LIMIT", env.get("ECB_FILES_READ_RATE_LIMIT", ""), defaults.reads
        ),
        auth_failures_per_client=_int(
            env, "ECB_FILES_AUTH_FAILURES_PER_CLIENT", defaults.auth_failures_per_client
        ),
        auth_failures_per_address=_int(
            env, "ECB_FILES_AUTH_FAILURES_PER_ADDRESS", defaults.auth_failures_per_address
        ),
        auth_failure_window_seconds=_int(
            env, "ECB_FILES_AUTH_FAILURE_WINDOW", defaults.auth_failure_window_seconds
        ),
        trusted_proxies=parse_networks(
            "ECB_FILES_TRUSTED_PROXIES", env.get("ECB_FILES_TRUSTED_PROXIES", "")
        ),
    )


def parse_networks(name: str, raw: str) -> tuple[IPNetwork, ...]:
    """Comma- or space-separated IP addresses and CIDR networks."""
    networks = []
    for item in raw.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"{name} takes IP addresses and CIDR networks (e.g. 10.0.0.0/8), got {item!r}"
            ) from None
    return tuple(networks)
