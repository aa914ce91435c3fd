"""Configuration, read once from the environment (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _seconds(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 1:
        raise ValueError(f"{name} must be at least 1 (seconds)")
    return value


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
    # a schema to use instead of the DSN's default search_path (tests, side-by-side setups)
    database_schema: str | None = None
    # how long an HTTP process trusts a cached API key or tenant row: the bound on a change
    # made by another process whose notification was lost (ADR 0050); 0 turns the cache off
    api_key_cache_ttl: float = 10.0
    request_max_body_size: int = 1_048_576
    # how long a request waits for another with the same Idempotency-Key to finish
    idempotency_wait: float = 5.0
    pii_master_key: str | None = None
    payment_gateway: str = "auto"
    # where the test gateway (PAYMENT_GATEWAY=fake) keeps its payments: "database" (its
    # own tables, seen by every process and after a restart) or "memory" (this process)
    fake_gateway_store: str = "database"
    stripe_secret_key: str | None = None
    stripe_api_base: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_redirect_free: bool = True
    # carriers (ADR 0030): what a tenant without a carrier connection gets ("fake": the
    # built-in test carrier, for demos; "none": refused), and base URLs that point every
    # UPS or ShipEngine call at another server (sandboxes, tests)
    carrier_fallback: str = "fake"
    ups_api_base: str | None = None
    shipengine_api_base: str | None = None
    # POS connections (ADR 0037): a base URL that points every Square call at another
    # server (tests), and how often the background pulls each connection's orders
    square_api_base: str | None = None
    # the notification URL registered with Square: what its webhook signatures cover
    square_webhook_url: str | None = None
    pos_sync_seconds: float = 60.0
    # Clover (ADR 0042): a base URL that points every Clover REST call at another server
    clover_api_base: str | None = None
    # POS OAuth (ADR 0043): the platform's apps at Square and Clover (client id and secret),
    # where Clover sends the seller back (Square's redirect URL is set in its dashboard),
    # and base URLs of their OAuth servers (sandboxes, tests)
    square_oauth_client_id: str | None = None
    square_oauth_client_secret: str | None = None
    square_oauth_base: str | None = None
    clover_oauth_client_id: str | None = None
    clover_oauth_client_secret: str | None = None
    clover_oauth_redirect_url: str | None = None
    clover_oauth_base: str | None = None
    # the platform's own tracking webhook secrets (ADR 0032): ShipEngine's is the
    # `secret` of the URL registered with it, UPS's the Track Alert `credential`
    shipengine_webhook_secret: str | None = None
    ups_webhook_credential: str | None = None
    run_projections: bool = True
    background_work: frozenset[str] = frozenset(
        {
            "projections",
            "webhooks",
            "jobs",
            "merchant_webhooks",
            "notifications",
            "channels",
            "relay",
        }
    )
    # POST /bench/hello for bench/http.py (entrypoints/http/bench.py)
    bench_routes: bool = False
    # rate limits (ADR 0022): counted in this process, or in Redis shared by every node
    redis_url: str | None = None
    rate_limit_redis_prefix: str = "commerce:ratelimit:"
    # per API key and route class, unless the tenant set its own
    rate_limit_per_second: int = 100
    rate_limit_burst: int = 200
    # failed authentications per client address and minute; then 429
    auth_failures_per_minute: int = 60
    # host:port of a listener serving GET /metrics without a key (a private interface);
    # on the API's own address /metrics needs an operator key (ADR 0019)
    metrics_address: str | None = None
    # merchant webhooks (ADR 0036): http to any host (else https, http on loopback only);
    # private, loopback and link-local targets (else public addresses only); the timeout
    # of one attempt in seconds
    webhook_allow_http: bool = False
    webhook_allow_private: bool = False
    webhook_timeout: float = 10.0
    # the integration event relay (ADR 0035): off unless NATS_URL is set; one JetStream
    # stream per deployment, subjects <prefix>.<tenant>.<type>
    nats_url: str | None = None
    nats_stream: str = "COMMERCE"
    nats_subject_prefix: str = "commerce"
    # customer notifications (ADR 0038): without SMTP_URL emails, and without Twilio
    # texts, go to the in-memory outbox (GET /admin/notifications shows them)
    smtp_url: str | None = None
    email_from: str = "orders@localhost"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_base_url: str = "https://api.twilio.com"
    # the shop's public address: tracking and payment links in messages start with it
    notification_link_base: str = "http://127.0.0.1:8000"
    worker_stop_timeout: int = 30  # seconds an HTTP worker has to stop before it is killed

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or None,
            host=os.environ.get("HOST", "127.0.0.1"),
            port=_int("PORT", 8000),
            workers=_int("WORKERS", 1),
            worker_stop_timeout=_seconds("WORKER_STOP_TIMEOUT", 30),
            data_dir=Path(os.environ.get("DATA_DIR", "var")),
            event_store=os.environ.get("EVENT_STORE", "postgres"),
            db_pool_min=_int("DB_POOL_MIN", 2),
            db_pool_max=_int("DB_POOL_MAX", 20),
            poll_interval=_float("SUBSCRIPTION_POLL_INTERVAL", 0.2),
            snapshot_every=_int("SNAPSHOT_EVERY", 100),
            log_level=os.environ.get("LOG_LEVEL", "info"),
            log_format=os.environ.get("LOG_FORMAT", "json"),
            database_schema=os.environ.get("DATABASE_SCHEMA") or None,
            api_key_cache_ttl=_float("API_KEY_CACHE_TTL", 10.0),
            request_max_body_size=_int("REQUEST_MAX_BODY_SIZE", 1_048_576),
            idempotency_wait=_float("IDEMPOTENCY_WAIT", 5.0),
            pii_master_key=os.environ.get("PII_MASTER_KEY") or None,
            payment_gateway=os.environ.get("PAYMENT_GATEWAY", "auto"),
            fake_gateway_store=os.environ.get("FAKE_GATEWAY_STORE", "database"),
            stripe_secret_key=os.environ.get("STRIPE_SECRET_KEY") or None,
            stripe_api_base=os.environ.get("STRIPE_API_BASE") or None,
            stripe_webhook_secret=os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
            stripe_redirect_free=os.environ.get("STRIPE_REDIRECT_FREE", "1")
            not in ("0", "false", "no"),
            carrier_fallback=os.environ.get("CARRIER_FALLBACK", "fake"),
            ups_api_base=os.environ.get("UPS_API_BASE") or None,
            shipengine_api_base=os.environ.get("SHIPENGINE_API_BASE") or None,
            square_api_base=os.environ.get("SQUARE_API_BASE") or None,
            square_webhook_url=os.environ.get("SQUARE_WEBHOOK_URL") or None,
            pos_sync_seconds=float(os.environ.get("POS_SYNC_SECONDS", "60")),
            clover_api_base=os.environ.get("CLOVER_API_BASE") or None,
            square_oauth_client_id=os.environ.get("SQUARE_OAUTH_CLIENT_ID") or None,
            square_oauth_client_secret=os.environ.get("SQUARE_OAUTH_CLIENT_SECRET") or None,
            square_oauth_base=os.environ.get("SQUARE_OAUTH_BASE") or None,
            clover_oauth_client_id=os.environ.get("CLOVER_OAUTH_CLIENT_ID") or None,
            clover_oauth_client_secret=os.environ.get("CLOVER_OAUTH_CLIENT_SECRET") or None,
            clover_oauth_redirect_url=os.environ.get("CLOVER_OAUTH_REDIRECT_URL") or None,
            clover_oauth_base=os.environ.get("CLOVER_OAUTH_BASE") or None,
            shipengine_webhook_secret=os.environ.get("SHIPENGINE_WEBHOOK_SECRET") or None,
            ups_webhook_credential=os.environ.get("UPS_WEBHOOK_CREDENTIAL") or None,
            run_projections=os.environ.get("RUN_PROJECTIONS", "1") not in ("0", "false", "no"),
            background_work=frozenset(
                part.strip()
                for part in os.environ.get(
                    "BACKGROUND_WORK",
                    "projections,webhooks,jobs,merchant_webhooks,notifications,channels,relay",
                ).split(",")
                if part.strip()
            ),
            bench_routes=os.environ.get("BENCH_ROUTES", "0") in ("1", "true", "yes"),
            redis_url=os.environ.get("REDIS_URL") or None,
            rate_limit_redis_prefix=os.environ.get(
                "RATE_LIMIT_REDIS_PREFIX", "commerce:ratelimit:"
            ),
            rate_limit_per_second=_int("RATE_LIMIT_PER_SECOND", 100),
            rate_limit_burst=_int("RATE_LIMIT_BURST", 200),
            auth_failures_per_minute=_int("AUTH_FAILURES_PER_MINUTE", 60),
            metrics_address=os.environ.get("METRICS_ADDRESS") or None,
            webhook_allow_http=os.environ.get("WEBHOOK_ALLOW_HTTP", "0") in ("1", "true", "yes"),
            webhook_allow_private=os.environ.get("WEBHOOK_ALLOW_PRIVATE", "0")
            in ("1", "true", "yes"),
            webhook_timeout=_float("WEBHOOK_TIMEOUT", 10.0),
            nats_url=os.environ.get("NATS_URL") or None,
            nats_stream=os.environ.get("NATS_STREAM", "COMMERCE"),
            nats_subject_prefix=os.environ.get("NATS_SUBJECT_PREFIX", "commerce"),
            smtp_url=os.environ.get("SMTP_URL") or None,
            email_from=os.environ.get("EMAIL_FROM", "orders@localhost"),
            twilio_account_sid=os.environ.get("TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=os.environ.get("TWILIO_AUTH_TOKEN") or None,
            twilio_from=os.environ.get("TWILIO_FROM") or None,
            twilio_base_url=os.environ.get("TWILIO_BASE_URL", "https://api.twilio.com"),
            notification_link_base=os.environ.get(
                "NOTIFICATION_LINK_BASE", "http://127.0.0.1:8000"
            ),
        )


def master_key(settings: Settings) -> bytes:
    """The 32-byte key that wraps every customer's data key (PII_MASTER_KEY, 64 hex digits).

    Without PII_MASTER_KEY a key is created once in DATA_DIR/pii-master.key, so `make run`
    works out of the box; production sets the variable (losing the key loses all PII).
    """
    if settings.pii_master_key:
        key = bytes.fromhex(settings.pii_master_key)
    else:
        path = settings.data_dir / "pii-master.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(os.urandom(32).hex())
            path.chmod(0o600)
        key = bytes.fromhex(path.read_text().strip())
    if len(key) != 32:
        raise ValueError("PII_MASTER_KEY must be 32 bytes (64 hex digits)")
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
