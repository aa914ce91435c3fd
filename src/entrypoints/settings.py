"""Configuration, read once from the environment (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    host: str
    port: int
    workers: int
    data_dir: Path
    event_store: str
    db_pool_min: int
    db_pool_max: int
    poll_interval: float
    snapshot_every: int
    log_level: str
    log_format: str

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or None,
            host=os.environ.get("HOST", "127.0.0.1"),
            port=_int("PORT", 8000),
            workers=_int("WORKERS", 1),
            data_dir=Path(os.environ.get("DATA_DIR", "var")),
            event_store=os.environ.get("EVENT_STORE", "postgres"),
            db_pool_min=_int("DB_POOL_MIN", 2),
            db_pool_max=_int("DB_POOL_MAX", 20),
            poll_interval=_float("SUBSCRIPTION_POLL_INTERVAL", 0.2),
            snapshot_every=_int("SNAPSHOT_EVERY", 100),
            log_level=os.environ.get("LOG_LEVEL", "info"),
            log_format=os.environ.get("LOG_FORMAT", "json"),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
