"""Where ``ecb-files-submit`` takes its settings from: flags, environment, config file.

For each setting the first of these that has it wins:

1. the command-line flag (``--client-id``);
2. the environment variable ``ECB_SUBMIT_<NAME>`` (``ECB_SUBMIT_CLIENT_ID``);
3. the TOML config file: ``--config``, else ``$ECB_SUBMIT_CONFIG``, else
   ``$XDG_CONFIG_HOME/ecb-files/submit.toml`` (``~/.config/…``) if it exists. Its keys
   are the setting names (``client_id = "…"``); relative paths in it are relative to
   the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecb_files_client._credentials import ClientAuth, ClientSecret, PrivateKeyJwt
from ecb_files_client._tokens import WRITE_SCOPE, ClientCredentials

ENV_PREFIX = "ECB_SUBMIT_"

# name → (flag, is a path)
SETTINGS: Mapping[str, tuple[str, bool]] = {
    "url": ("--url", False),
    "client_id": ("--client-id", False),
    "client_secret": ("--client-secret", False),
    "key": ("--key", True),
    "cert": ("--cert", True),
    "pkcs12": ("--pkcs12", True),
    "key_password": ("--key-password", False),
    "issuer": ("--issuer", False),
    "token_endpoint": ("--token-endpoint", False),
    "scope": ("--scope", False),
    "security_token": ("--security-token", False),
    "alias": ("--alias", False),
    "email": ("--email", False),
}


class UsageError(Exception):
    """A setting is missing or unusable: exit status 2."""


def default_config_path(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ecb-files" / "submit.toml"


def load_config(path: Path | None, env: Mapping[str, str]) -> tuple[dict[str, Any], Path | None]:
    """The config file's settings (paths made absolute) and where it was, if any."""
    explicit = path or (
        Path(env[ENV_PREFIX + "CONFIG"]) if env.get(ENV_PREFIX + "CONFIG") else None
    )
    chosen = explicit or default_config_path(env)
    if explicit is None and not chosen.exists():
        return {}, None
    try:
        document = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read config file {chosen}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"config file {chosen} is not valid TOML: {error}") from None
    unknown = sorted(set(document) - set(SETTINGS))
    if unknown:
        raise UsageError(
            f"config file {chosen}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(SETTINGS)}"
        )
    values: dict[str, Any] = {}
    for name, value in document.items():
        if not isinstance(value, str):
            raise UsageError(f"config file {chosen}: {name} must be a string")
        values[name] = str(chosen.parent / value) if SETTINGS[name][1] else value
    return values, chosen


@dataclass(frozen=True)
class Settings:
    """Every setting, resolved; None where no source had it."""

    values: Mapping[str, str | None]
    config_path: Path | None

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def require(self, name: str) -> str:
        value = self.values.get(name)
        if not value:
            flag = SETTINGS[name][0]
            where = f" or {name} in {self.config_path}" if self.config_path else ""
            raise UsageError(f"{flag} is required (or set {ENV_PREFIX}{name.upper()}{where})")
        return value

    def client_auth(self) -> ClientAuth:
        """The private key (PEM or PKCS#12) or the client secret; exactly one."""
        key, pkcs12, secret = self.get("key"), self.get("pkcs12"), self.get("client_secret")
        chosen = [name for name, value in (("key", key), ("pkcs12", pkcs12)) if value]
        if len(chosen) > 1 or (chosen and secret):
            raise UsageError(
                "choose one way to authenticate: --key (with --cert), --pkcs12 or "
                "--client-secret (check the environment and the config file too)"
            )
        password = self.get("key_password")
        try:
            if pkcs12:
                return PrivateKeyJwt.from_pkcs12(pkcs12, password)
            if key:
                return PrivateKeyJwt.from_pem_files(key, self.get("cert"), password=password)
        except OSError as error:
            raise UsageError(f"cannot read {error.filename}: {error.strerror}") from None
        except ValueError as error:
            raise UsageError(str(error)) from None
        if secret:
            return ClientSecret(secret)
        raise UsageError(
            "no client credentials: pass --key and --cert, --pkcs12, or --client-secret "
            f"(or set {ENV_PREFIX}KEY, {ENV_PREFIX}PKCS12 or {ENV_PREFIX}CLIENT_SECRET)"
        )

    def credentials(self) -> ClientCredentials:
        scope = self.get("scope") or WRITE_SCOPE
        return ClientCredentials(
            client_id=self.require("client_id"),
            auth=self.client_auth(),
            scopes=tuple(scope.split()),
            issuer=self.get("issuer"),
            token_endpoint=self.get("token_endpoint"),
        )


def resolve(
    flags: Mapping[str, str | None], env: Mapping[str, str], config: Path | None = None
) -> Settings:
    """Flags over ``ECB_SUBMIT_*`` variables over the config file."""
    from_file, config_path = load_config(config, env)
    values: dict[str, str | None] = {}
    for name in SETTINGS:
        values[name] = flags.get(name) or env.get(ENV_PREFIX + name.upper()) or from_file.get(name)
    return Settings(values, config_path)
