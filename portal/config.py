"""Settings, read from the environment only (documented in README.md)."""
import os
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-not-secret-never-use-in-production"
ENVIRONMENTS = ("development", "production")
MIN_SECRET_KEY_BYTES = 32


class ConfigError(RuntimeError):
    """A setting that would make the portal unsafe: it refuses to start and says which and why."""


def _flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url():
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{ROOT / 'instance' / 'portal.db'}"
    # Heroku-style URLs name the old driver; we ship psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _portal_url(public_base_url):
    """PORTAL_URL, else PUBLIC_BASE_URL, else the embedded server `make run` starts (its PORT)."""
    url = (os.environ.get("PORTAL_URL") or public_base_url
           or f"http://127.0.0.1:{os.environ.get('PORT') or '5000'}").rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"PORTAL_URL must be an http:// or https:// address such as "
                          f"https://safety.shropshire.gov.uk, not {url!r}.")
    return url


def _visibility_timeout():
    return int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "7200"))


def celery_settings(redis_url, visibility_timeout=None):
    """Celery runs eagerly in-process when no Redis is configured."""
    visibility_timeout = visibility_timeout or _visibility_timeout()
    return {
        "broker_url": redis_url or "memory://",
        "result_backend": redis_url or "cache+memory://",
        "task_always_eager": not redis_url,
        "task_eager_propagates": True,
        "task_store_eager_result": True,  # so progress pages can read an eager task's result
        "task_track_started": True,
        "task_ignore_result": False,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # A job whose worker died unacknowledged goes back on its queue once it has been out this long,
        # so it must be longer than the longest job (a big police.uk zip) or a slow job runs twice.
        # Workers look for such jobs every 10 s (kombu's default: every 100 s).
        "broker_transport_options": {"visibility_timeout": visibility_timeout, "unacked_restore_throttle": 1},
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "timezone": "Europe/London",
        # One queue per deployment (tests give their worker a queue of its own).
        "task_default_queue": os.environ.get("CELERY_DEFAULT_QUEUE", "portal"),
    }


def public_cache_settings(redis_url):
    """Flask-Caching for the public page cache: Redis when there is one, else a per-process SimpleCache."""
    return {
        "CACHE_TYPE": "RedisCache" if redis_url else "SimpleCache",
        "CACHE_REDIS_URL": redis_url,
        # Redis also holds Celery's queues and the rate limits: our keys have a prefix of their own.
        "CACHE_KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "portal:public:"),
        # A cached body is keyed by the data version, so it only needs to outlive a busy spell.
        "CACHE_DEFAULT_TIMEOUT": 300,
    }


class Config:
    def __init__(self):
        self.ENV_NAME = os.environ.get("PORTAL_ENV", "development")
        if self.ENV_NAME not in ENVIRONMENTS:
            # A typo ("prod") must not quietly run production data with development's demo accounts.
            raise ConfigError(f"PORTAL_ENV must be 'development' or 'production', not {self.ENV_NAME!r}.")
        production = self.ENV_NAME == "production"
        self.SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
        self.SQLALCHEMY_DATABASE_URI = _database_url()
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        # Seconds a job may run before the broker hands it to another worker; an import running
        # longer than this is shown failed, with a retry.
        self.CELERY_VISIBILITY_TIMEOUT = _visibility_timeout()
        self.CELERY = celery_settings(self.REDIS_URL, self.CELERY_VISIBILITY_TIMEOUT)
        # Demo accounts (README) exist only in development.
        self.DEMO_ACCOUNTS = not production and _flag("DEMO_ACCOUNTS", True)
        self.SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", production)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.SESSION_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.PERMANENT_SESSION_LIFETIME = 8 * 3600
        self.WTF_CSRF_TIME_LIMIT = None  # a form left open through a PACT meeting must still submit
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)
        self.LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per 5 minutes")
        # Concerns one address may send through the residents' form (portal/reporting).
        self.REPORT_RATE_LIMIT = os.environ.get("REPORT_RATE_LIMIT", "5 per hour")
        # The longest a resident's email address is kept when their concern stays open (days).
        self.REPORT_EMAIL_DAYS = int(os.environ.get("REPORT_EMAIL_DAYS", "365"))
        # Residents asking for updates about a place (portal/following): per address (IP) and per email.
        self.FOLLOW_RATE_LIMIT = os.environ.get("FOLLOW_RATE_LIMIT", "10 per hour")
        self.FOLLOW_EMAIL_RATE_LIMIT = os.environ.get("FOLLOW_EMAIL_RATE_LIMIT", "3 per day")
        # How long a "confirm you want updates" link works.
        self.FOLLOW_CONFIRM_HOURS = float(os.environ.get("FOLLOW_CONFIRM_HOURS", "72"))
        # Residents' "Has this made a difference?" answers sent from one address.
        self.FEEDBACK_RATE_LIMIT = os.environ.get("FEEDBACK_RATE_LIMIT", "20 per hour")
        self.RATELIMIT_HEADERS_ENABLED = True  # a 429 says when to try again (Retry-After)
        self.MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "200")) * 1024 * 1024
        # The most a zipped police.uk file may inflate to (checked while inflating).
        self.MAX_INFLATED_MB = int(os.environ.get("MAX_INFLATED_MB", "4096"))
        self.MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
        self.MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
        self.MAIL_USE_TLS = _flag("MAIL_USE_TLS", True)
        self.MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
        self.MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "community-safety@shropshire.example")
        self.TILE_URL = os.environ.get("TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
        self.TILE_ATTRIBUTION = os.environ.get(
            "TILE_ATTRIBUTION",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        )
        self.SEED_DIR = str(ROOT / "seed")
        # Uploaded crime files wait here for the worker: shared storage when workers run elsewhere.
        self.UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(ROOT / "instance" / "uploads"))
        # The largest photo or document one task update may carry (the request's limit is MAX_UPLOAD_MB).
        self.TASK_FILE_MAX_MB = int(os.environ.get("TASK_FILE_MAX_MB", "10"))
        # How stale the public map and lists may be (seconds): bounds database work under load.
        self.PUBLIC_CACHE_SECONDS = float(os.environ.get("PUBLIC_CACHE_SECONDS", "5"))
        # The portal's public address, e.g. https://safety.shropshire.gov.uk: the OpenAPI document's server.
        # Never taken from the request's Host header, which the client chooses.
        self.PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
        # The address staff open the portal at: every notification's link is built from it, so a link works
        # from an email client and from a Celery task, where there is no request to take a host from.
        self.PORTAL_URL = _portal_url(self.PUBLIC_BASE_URL)
        # Who is told, with a link, when a monthly PMCG pack is issued (addresses separated by commas).
        self.PMCG_DISTRIBUTION = os.environ.get("PMCG_DISTRIBUTION", "")
        self.__dict__.update(public_cache_settings(self.REDIS_URL))


def refuse_unsafe(config):
    """Raise ConfigError for settings the portal must not start with (create_app calls it)."""
    key = config.get("SECRET_KEY") or ""
    if config.get("ENV_NAME") == "production" and key == DEV_SECRET_KEY:
        raise ConfigError("SECRET_KEY must be set to a long random value in production (PORTAL_ENV=production).")
    if len(key.encode() if isinstance(key, str) else key) < MIN_SECRET_KEY_BYTES:
        raise ConfigError(f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes (it signs sessions and CSRF "
                          "tokens); make one with: python -c 'import secrets; print(secrets.token_hex(32))'")


class TestConfig(Config):
    __test__ = False  # not a pytest class

    def __init__(self, database_url=None, redis_url=None):
        super().__init__()
        self.ENV_NAME = "test"
        self.TESTING = True
        self.SECRET_KEY = "test-secret-long-enough-for-the-32-byte-rule"
        self.SQLALCHEMY_DATABASE_URI = database_url or "sqlite://"
        self.REDIS_URL = redis_url
        self.CELERY = celery_settings(redis_url, self.CELERY_VISIBILITY_TIMEOUT)
        self.DEMO_ACCOUNTS = False
        self.RATELIMIT_ENABLED = False
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.MAIL_SERVER = None
        self.SERVER_NAME = None
        self.PUBLIC_CACHE_SECONDS = 0
        # Each test app has a SimpleCache of its own; a test that wants Redis sets CACHE_TYPE and the rest.
        self.__dict__.update(public_cache_settings(None))
