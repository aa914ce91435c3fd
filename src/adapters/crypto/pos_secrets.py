"""POS connection secrets sealed for storage: what both POS connection stores keep."""

from __future__ import annotations

from uuid import UUID

import msgspec

from adapters.crypto.gateway_secrets import SealedCredentials
from adapters.crypto.secret_box import SecretBox
from commerce_core.channels.connections import PosSecrets
from commerce_core.shared.ports.keyring import KeyringError

_PURPOSE = "pos-secrets"


def _bound_to(tenant_id: UUID, pos: str) -> bytes:
    # Bound to their row: secrets copied to another tenant or POS fail to open.
    return f"{tenant_id}\x00{pos}".encode()


class PosSecretBox:
    """Seals and opens a tenant's POS secrets (AES-256-GCM, see ``SecretBox``)."""

    def __init__(self, master_key: bytes) -> None:
        self._box = SecretBox(master_key, _PURPOSE)

    def seal(self, tenant_id: UUID, pos: str, secrets: PosSecrets) -> SealedCredentials:
        plaintext = msgspec.json.encode(secrets)
        return SealedCredentials(
            self._box.key_id, self._box.seal(plaintext, _bound_to(tenant_id, pos))
        )

    def open(self, tenant_id: UUID, pos: str, stored: SealedCredentials) -> PosSecrets:
        """The secrets; ``KeyringError`` when sealed under another master key or altered."""
        if stored.key_id != self._box.key_id:
            raise KeyringError(
                f"the {pos} secrets of tenant {tenant_id} were sealed under master key"
                f" {stored.key_id}, not the configured one"
            )
        return msgspec.json.decode(
            self._box.open(stored.sealed, _bound_to(tenant_id, pos)), type=PosSecrets
        )
