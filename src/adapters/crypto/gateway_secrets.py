"""Gateway credentials sealed for storage: what both gateway configuration stores keep."""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

import msgspec

from adapters.crypto.secret_box import SecretBox
from commerce_core.payments.ports.gateway_configs import GatewayCredentials
from commerce_core.shared.ports.keyring import KeyringError

_PURPOSE = "gateway-secrets"


class SealedCredentials(NamedTuple):
    """Credentials encrypted under the master key named ``key_id``."""

    key_id: str
    sealed: bytes


def _bound_to(tenant_id: UUID, gateway: str) -> bytes:
    # Bound to their row: credentials copied to another tenant or gateway fail to open.
    return f"{tenant_id}\x00{gateway}".encode()


class GatewaySecrets:
    """Seals and opens a tenant's gateway credentials (AES-256-GCM, see ``SecretBox``)."""

    def __init__(self, master_key: bytes) -> None:
        self._box = SecretBox(master_key, _PURPOSE)

    def seal(
        self, tenant_id: UUID, gateway: str, credentials: GatewayCredentials
    ) -> SealedCredentials:
        plaintext = msgspec.json.encode(credentials)
        return SealedCredentials(
            self._box.key_id, self._box.seal(plaintext, _bound_to(tenant_id, gateway))
        )

    def open(self, tenant_id: UUID, gateway: str, stored: SealedCredentials) -> GatewayCredentials:
        """The credentials; ``KeyringError`` when sealed under another master key or altered."""
        if stored.key_id != self._box.key_id:
            raise KeyringError(
                f"the {gateway} credentials of tenant {tenant_id} were sealed under master key"
                f" {stored.key_id}, not the configured one"
            )
        plaintext = self._box.open(stored.sealed, _bound_to(tenant_id, gateway))
        return msgspec.json.decode(plaintext, type=GatewayCredentials)
