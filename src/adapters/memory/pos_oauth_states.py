"""Issued POS OAuth states in memory (unit tests, `make run`)."""

from __future__ import annotations

from datetime import datetime

from commerce_core.channels.oauth import OAuthState


class MemoryOAuthStates:
    def __init__(self) -> None:
        self.states: dict[str, OAuthState] = {}

    async def issue(self, digest: str, state: OAuthState, at: datetime) -> None:
        self.states[digest] = state

    async def take(self, digest: str) -> OAuthState | None:
        return self.states.pop(digest, None)
