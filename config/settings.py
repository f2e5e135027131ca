"""Settings, all from the environment.

The defaults run embedded straight after a clone: SQLite under var/, a kombu filesystem broker under var/,
no server of any kind. Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY, DEBUG=0 and the ID keys
(docs/deploy.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"Environment variable {name} is required")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else None)
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set to a private value when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# ID numbers are encrypted at rest (Fernet; the first key encrypts, every key decrypts, so keys can be
# rotated) and found by exact match through a keyed hash (HMAC-SHA256 with ID_LOOKUP_KEY). Development
# derives both from fixed, clearly labelled strings; production must set them.
_DEV_ID_KEY = "ZGV2LW9ubHktaWQtZW5jcnlwdGlvbi1rZXktMzJieXQ="  # base64 of 32 bytes, development only
ID_ENCRYPTION_KEYS = env_list("ID_ENCRYPTION_KEYS", [_DEV_ID_KEY] if DEBUG else [])
if not DEBUG and not ID_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("ID_ENCRYPTION_KEYS is required when DEBUG is off (docs/deploy.md)")
ID_LOOKUP_KEY = env_str("ID_LOOKUP_KEY", "dev-only-id-lookup-key" if DEBUG else None)
if not DEBUG and (_DEV_ID_KEY in ID_ENCRYPTION_KEYS or ID_LOOKUP_KEY == "dev-only-id-lookup-key"):
    raise ImproperlyConfigured("The development ID keys must not be used when DEBUG is off")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "viewflow",
    "viewflow.workflow",
    "credit",
    "objections",
    "repair",
    "letters",
    "notifications",
    "portal",
    "workspace",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "credit.workflow.WorkflowLoginMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "notifications.context_processors.unread",
            ],
        },
    },
]

# Database. The embedded default is SQLite in WAL mode with IMMEDIATE transactions, so that the web
# process, the Celery worker and beat can share one file: a writer takes the lock when its transaction
# begins instead of failing with "database is locked" when it first writes.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "credit.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# A cache shared by every web and worker process: the rate limits (sign-ups, authorisation attempts,
# letter uploads) count in it, and sessions are read from it first (written through to the database). Without
# CACHE_URL each process has its own memory cache and sessions live in the database only: right for the
# embedded mode's single process, wrong for several machines (docs/deploy.md).
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured(
            f"CACHE_URL={CACHE_URL!r}: only a Redis URL (redis://host:port/db) is supported"
        )
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (docs/deploy.md).
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 30 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "credit.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Credit objections and repair API",
    "DESCRIPTION": "信用异议与信用修复 case management",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Celery. The embedded default broker is kombu's filesystem transport under var/broker with a short
# polling interval (~0.1 s round trip, ../shared/FINDINGS.md); production points CELERY_BROKER_URL at
# Redis or RabbitMQ. Results are not kept: tasks write what they do to the database.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "control", "processed"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a task killed mid-run is redelivered; tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Due workflow timers claimed and fired per transaction by the sweep (credit.timers).
TIMER_SWEEP_BATCH = env_int("TIMER_SWEEP_BATCH", 500)
# Helper sweeps queued when more than a batch is due: the pool processes beyond the first (a worker started
# with --concurrency=2 has one to spare; docs/deploy.md).
TIMER_SWEEP_HELPERS = env_int("TIMER_SWEEP_HELPERS", 1)
CELERY_BEAT_SCHEDULE = {
    # viewflow's timer sweep; every flow uses select_for_update_lock (checked by credit.checks).
    "fire-due-workflow-timers": {"task": "credit.tasks.fire_due_workflow_timers", "schedule": 60.0},
    "mark-missed-deadlines": {"task": "credit.tasks.mark_missed_deadlines", "schedule": 300.0},
    # A calendar change whose recomputation message was lost is recomputed all the same.
    "recompute-missed-calendar-changes": {
        "task": "credit.recompute_tasks.recompute_missed_calendar_changes",
        "schedule": 600.0,
    },
    "advance-record-periods": {"task": "credit.tasks.advance_record_periods", "schedule": 3600.0},
    # A letter whose generation message was lost (broker flushed, worker killed) is sent again.
    "retry-pending-letters": {"task": "letters.tasks.retry_pending_letters", "schedule": 600.0},
    "start-missing-repair-work": {"task": "repair.tasks.start_missing_work", "schedule": 300.0},
    "start-missing-objection-work": {"task": "objections.tasks.start_missing_work", "schedule": 300.0},
    "start-missing-complaint-work": {
        "task": "objections.tasks.start_missing_complaint_work",
        "schedule": 300.0,
    },
    "start-missing-reconsideration-work": {
        "task": "objections.tasks.start_missing_reconsideration_work",
        "schedule": 300.0,
    },
    "requeue-stalled-deliveries": {
        "task": "notifications.tasks.requeue_stalled_deliveries",
        "schedule": 600.0,
    },
    "deadline-reminders": {
        "task": "notifications.tasks.send_deadline_reminders",
        "schedule": crontab(hour=7, minute=30),
    },
    "daily-digests": {
        "task": "notifications.tasks.send_daily_digests",
        "schedule": crontab(hour=8, minute=0),
    },
    # The staff queues' table of open tasks, checked against its sources (and repaired, with an error in
    # the log, if it ever differs).
    "reconcile-open-tasks": {
        "task": "workspace.tasks.reconcile_open_tasks",
        "schedule": crontab(hour=3, minute=20),
    },
}

# Letters. PUBLIC_BASE_URL is printed in every letter's QR code and verification line, so it must be the
# address the public reaches the verification page at. A timestamp authority makes signatures PAdES B-T.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
LETTERS_TSA_URL = env_str("LETTERS_TSA_URL", "")
# CA certificates (PEM files) that signatures are validated against by /verify/ and `verify_letter`;
# development trusts the CA that `make run` (dev_signing_setup) creates.
LETTERS_TRUST_ROOTS = env_list(
    "LETTERS_TRUST_ROOTS", [str(VAR_DIR / "dev-pki" / "ca-cert.pem")] if DEBUG else []
)
if not DEBUG and not LETTERS_TRUST_ROOTS:
    raise ImproperlyConfigured("LETTERS_TRUST_ROOTS is required when DEBUG is off (docs/deploy.md)")
LETTERS_MAX_UPLOAD_BYTES = env_int("LETTERS_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
# Evidence uploads (PDF, JPEG, PNG, HEIC photos); the reverse proxy's body limit must be above it.
REPAIR_MAX_UPLOAD_BYTES = env_int("REPAIR_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Notifications. E-mail goes to the console unless EMAIL_BACKEND says otherwise (SMTP in production);
# SMS goes to the log unless SMS_GATEWAY names another adapter (docs/deploy.md).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "credit-repair@localhost")
SMS_GATEWAY = env_str("SMS_GATEWAY", "notifications.gateways.LoggingGateway")
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = env_str("SMS_GATEWAY_TOKEN", "")
NOTIFY_REMINDER_WORKING_DAYS = env_int("NOTIFY_REMINDER_WORKING_DAYS", 2)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # pyHanko subsets the stamp font at every signature, and fontTools logs each subset at INFO.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
