"""The Redis the tests share (``TEST_REDIS_URL``), and a key prefix of each test's own."""

from __future__ import annotations

import os
import uuid

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unique_prefix() -> str:
    """Keys of one test only: tests never see each other's counts, and Redis expires them."""
    return f"test:ratelimit:{uuid.uuid4().hex}:"
