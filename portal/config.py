"""Settings, read from the environment only (documented in README.md)."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-not-secret"


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


def celery_settings(redis_url):
    """Celery runs eagerly in-process when no Redis is configured."""
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
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "timezone": "Europe/London",
        # One queue per deployment (tests give their worker a queue of its own).
        "task_default_queue": os.environ.get("CELERY_DEFAULT_QUEUE", "portal"),
    }


class Config:
    def __init__(self):
        self.ENV_NAME = os.environ.get("PORTAL_ENV", "development")
        production = self.ENV_NAME == "production"
        self.SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
        self.SQLALCHEMY_DATABASE_URI = _database_url()
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        self.CELERY = celery_settings(self.REDIS_URL)
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
            "TILE_ATTRIBUTION", '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
        )
        self.SEED_DIR = str(ROOT / "seed")
        # Uploaded crime files wait here for the worker: shared storage when workers run elsewhere.
        self.UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(ROOT / "instance" / "uploads"))
        # How stale the public map and lists may be (seconds): bounds database work under load.
        self.PUBLIC_CACHE_SECONDS = float(os.environ.get("PUBLIC_CACHE_SECONDS", "5"))
        # The portal's public address, e.g. https://safety.shropshire.gov.uk: the OpenAPI document's server.
        # Never taken from the request's Host header, which the client chooses.
        self.PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")


class TestConfig(Config):
    __test__ = False  # not a pytest class

    def __init__(self, database_url=None, redis_url=None):
        super().__init__()
        self.ENV_NAME = "test"
        self.TESTING = True
        self.SECRET_KEY = "test-secret"
        self.SQLALCHEMY_DATABASE_URI = database_url or "sqlite://"
        self.REDIS_URL = redis_url
        self.CELERY = celery_settings(redis_url)
        self.DEMO_ACCOUNTS = False
        self.RATELIMIT_ENABLED = False
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.MAIL_SERVER = None
        self.SERVER_NAME = None
        self.PUBLIC_CACHE_SECONDS = 0
