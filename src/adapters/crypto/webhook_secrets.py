"""Webhook signing secrets sealed for storage: what both endpoint stores keep."""

from __future__ import annotations

from uuid import UUID

import msgspec

from adapters.crypto.gateway_secrets import SealedCredentials
from adapters.crypto.secret_box import SecretBox
from commerce_core.merchant_webhooks.endpoints import SigningSecrets
from commerce_core.shared.ports.keyring import KeyringError

_PURPOSE = "webhook-secrets"


def _bound_to(tenant: str, endpoint_id: UUID) -> bytes:
    # Bound to their row: secrets copied to another tenant or endpoint fail to open.
    return f"{tenant}\x00{endpoint_id}".encode()


class WebhookSecretBox:
    def __init__(self, master_key: bytes) -> None:
        self._box = SecretBox(master_key, _PURPOSE)

    def seal(self, tenant: str, endpoint_id: UUID, secrets: SigningSecrets) -> SealedCredentials:
        plaintext = msgspec.json.encode(secrets)
        return SealedCredentials(
            self._box.key_id, self._box.seal(plaintext, _bound_to(tenant, endpoint_id))
        )

    def open(self, tenant: str, endpoint_id: UUID, stored: SealedCredentials) -> SigningSecrets:
        """The secrets; ``KeyringError`` when sealed under another master key or altered."""
        if stored.key_id != self._box.key_id:
            raise KeyringError(
                f"the secrets of webhook endpoint {endpoint_id} were sealed under master key"
                f" {stored.key_id}, not the configured one"
            )
        plaintext = self._box.open(stored.sealed, _bound_to(tenant, endpoint_id))
        return msgspec.json.decode(plaintext, type=SigningSecrets)
