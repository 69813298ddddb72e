"""The service's endpoints that rules refer to: the token endpoint (§2), the two
submit endpoints, with what differs between them (§3), and the FNoL endpoint (§10.2)."""

from __future__ import annotations

from enum import StrEnum

TOKEN_PATH = "/connect/token"  # noqa: S105 — a path, not a secret

# The FNoL endpoint (§10.2): its name (a submission's ``endpoint``, an Idempotency-Key's
# scope), where it is, where the DN it creates will be, and its schema endpoint.
FNOL_ENDPOINT = "damageNotification"
FNOL_PATH = f"/ecx/host/api/integration/v1/{FNOL_ENDPOINT}"
FNOL_SCHEMA_PATH = f"{FNOL_PATH}/schema"


def damage_notification_location(dn_id: str) -> str:
    """The ``Location`` of a damage notification created through the FNoL endpoint."""
    return f"{FNOL_PATH}/{dn_id}"


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
