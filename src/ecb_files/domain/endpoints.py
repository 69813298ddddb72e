"""The service's endpoints that rules refer to: the token endpoint (§2) and the two
submit endpoints, with what differs between them (§3)."""

from __future__ import annotations

from enum import StrEnum

TOKEN_PATH = "/connect/token"  # noqa: S105 — a path, not a secret


class Endpoint(StrEnum):
    CASE = "submitForCase"
    DAMAGE_NOTIFICATION = "submitForDamageNotification"

    @property
    def path(self) -> str:
        return f"/ecx/host/api/integration/v1/file/{self.value}"

    @property
    def honours_is_restricted(self) -> bool:
        # A DN's files become public when merged, so the flag means nothing there (§3.1).
        return self is Endpoint.CASE

    @property
    def honours_is_damage_image(self) -> bool:
        return self is Endpoint.DAMAGE_NOTIFICATION
