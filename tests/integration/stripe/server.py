"""localstripe, a Stripe-compatible test server, in a subprocess for the test session.

One server serves every test that asks for it (``localstripe`` fixture, shared by the
integration and contract suites); each test empties it first with ``clear``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

SECRET_KEY = "sk_test_commerce_core"  # localstripe takes any key that starts with sk_
THREE_DS_CARD = "4000002500003155"  # needs 3-D Secure
DECLINED_CARD = "4000000000000341"  # attaches, then every charge is declined (card_declined)
START_TIMEOUT = 20.0  # seconds; it is usually ready in 1-2


class LocalStripe:
    """A running localstripe: its URL, and its test-only endpoints."""

    def __init__(self, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        # --from-scratch: do not load the data other instances saved in /tmp/localstripe.pickle
        self._process = subprocess.Popen(
            [sys.executable, "-m", "localstripe", "--port", str(self.port), "--from-scratch"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_ready(log)

    def _wait_until_ready(self, log: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"localstripe exited: {log.read_text()}")
            try:
                httpx.get(f"{self.url}/v1/balance", auth=(SECRET_KEY, ""), timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"localstripe did not answer within {START_TIMEOUT} s")

    def clear(self) -> None:
        """Forgets every object (it slows down as data grows)."""
        httpx.delete(f"{self.url}/_config/data", timeout=10.0).raise_for_status()

    async def authenticate(self, payment_intent_id: str, client_secret: str, success: bool) -> None:
        """The customer passes or fails 3-D Secure (localstripe's own endpoint)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=10.0) as client:
            response = await client.post(
                f"/v1/payment_intents/{payment_intent_id}/_authenticate",
                data={"client_secret": client_secret, "success": "true" if success else "false"},
                auth=(SECRET_KEY, ""),
            )
            response.raise_for_status()

    async def card(self, number: str) -> str:
        """A card PaymentMethod with a test card number (localstripe takes raw numbers)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=10.0) as client:
            response = await client.post(
                "/v1/payment_methods",
                data={
                    "type": "card",
                    "card[number]": number,
                    "card[exp_month]": "12",
                    "card[exp_year]": "2034",
                    "card[cvc]": "123",
                },
                auth=(SECRET_KEY, ""),
            )
            response.raise_for_status()
            return str(response.json()["id"])

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_shared: LocalStripe | None = None
_users = 0


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    """The session's localstripe, started on first use and stopped when the session ends.

    Conftests of different folders import this fixture, which makes one fixture per folder;
    they share one server through ``_shared`` and the last to finish stops it.
    """
    global _shared, _users
    if _shared is None:
        _shared = LocalStripe(tmp_path_factory.mktemp("localstripe") / "localstripe.log")
    _users += 1
    yield _shared
    _users -= 1
    if _users == 0:
        _shared.stop()
        _shared = None
