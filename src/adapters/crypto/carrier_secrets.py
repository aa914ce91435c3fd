"""Carrier account secrets sealed for storage: what both carrier connection stores keep."""

from __future__ import annotations

from uuid import UUID

import msgspec

from adapters.crypto.gateway_secrets import SealedCredentials
from adapters.crypto.secret_box import SecretBox
from commerce_core.fulfilment.connections import CarrierSecrets
from commerce_core.shared.ports.keyring import KeyringError

_PURPOSE = "carrier-secrets"


def _bound_to(tenant_id: UUID, carrier: str) -> bytes:
    # Bound to their row: secrets copied to another tenant or carrier fail to open.
    return f"{tenant_id}\x00{carrier}".encode()


class CarrierSecretBox:
    """Seals and opens a tenant's carrier secrets (AES-256-GCM, see ``SecretBox``)."""

    def __init__(self, master_key: bytes) -> None:
        self._box = SecretBox(master_key, _PURPOSE)

    def seal(self, tenant_id: UUID, carrier: str, secrets: CarrierSecrets) -> SealedCredentials:
        plaintext = msgspec.json.encode(secrets)
        return SealedCredentials(
            self._box.key_id, self._box.seal(plaintext, _bound_to(tenant_id, carrier))
        )

    def open(self, tenant_id: UUID, carrier: str, stored: SealedCredentials) -> CarrierSecrets:
        """The secrets; ``KeyringError`` when sealed under another master key or altered."""
        if stored.key_id != self._box.key_id:
            raise KeyringError(
                f"the {carrier} secrets of tenant {tenant_id} were sealed under master key"
                f" {stored.key_id}, not the configured one"
            )
        plaintext = self._box.open(stored.sealed, _bound_to(tenant_id, carrier))
        return msgspec.json.decode(plaintext, type=CarrierSecrets)
