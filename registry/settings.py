"""Settings for ovcf-registry, read from the environment.

With nothing set: SQLite in the project folder and Celery in eager mode (the embedded default
`make run` uses). DATABASE_URL selects PostgreSQL, CELERY_BROKER_URL a real broker with
workers, PRODUCTION=1 the hardened deployment settings. Every variable is listed in README.md.
"""

import os
from pathlib import Path

# Numerical libraries' own thread pools: one thread unless set. The statistics make hundreds
# of small BLAS calls (a dot product over 80,000 values in every ANOVA); on a busy host
# OpenBLAS's pool costs a thousand times the work (22 ms instead of 0.015 ms per call,
# measured on 2 shared cores). Runs scale out by worker processes instead. Set here, before
# numpy loads: the libraries read these once.
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

import dj_database_url  # noqa: E402 - after the thread settings above
from celery.schedules import crontab  # noqa: E402

from registry.env import env_bool, env_int, env_list, env_required, env_str  # noqa: E402

BASE_DIR = Path(__file__).resolve().parent.parent

PRODUCTION = env_bool("PRODUCTION", False)

if PRODUCTION:
    SECRET_KEY = env_required("SECRET_KEY")
    # localhost stays allowed so the container health check can call /healthz from inside.
    ALLOWED_HOSTS = [*(env_list("ALLOWED_HOSTS") or [env_required("ALLOWED_HOSTS")]), "localhost"]
    DEBUG = False
else:
    # A fixed key is harmless here: without PRODUCTION the app only ever serves localhost.
    SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-set-SECRET_KEY-in-production")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    DEBUG = env_bool("DEBUG", True)

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / ReDoc files served locally, no CDN
    "simple_history",
    "bootstrap",  # django-bootstrap-static: Bootstrap 5 files served locally, no CDN
    # Security (issue 13): sign-in lockout, Content-Security-Policy, TOTP second factor.
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "registry",
    "outcomes",
    "outcomes.quality",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Security (issue 13): CSP, no-store and Permissions-Policy on everything past static files.
    "csp.middleware.CSPMiddleware",
    "registry.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Security (issue 13): second factor, then the access log (it sees the final status).
    "django_otp.middleware.OTPMiddleware",
    "registry.middleware.SecondFactorMiddleware",
    "registry.middleware.AccessAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Attributes history rows written during a request to the signed-in user.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Security (issue 13): axes answers a locked-out sign-in; its docs ask for it last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"

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
            ],
        },
    },
]

_SQLITE_URL = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASE_URL = env_str("DATABASE_URL", _SQLITE_URL)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation costs more than it saves on this workload's short, index-driven queries.
    DATABASES["default"]["OPTIONS"] = {"options": "-c jit=off"}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent readers during writes (dev server + eager tasks) without "database is locked".
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20}

# A read replica for statistics (and export) jobs: outcomes.routers sends their reads there,
# never a write. Tests use Django's test mirror (the replica is the default database).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
    DATABASES["replica"]["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["outcomes.routers.ReplicaRouter"]

# Small-cell suppression: counts from 1 to MIN_CELL_COUNT - 1 are withheld (DOMAIN.md).
MIN_CELL_COUNT = env_int("MIN_CELL_COUNT", 5, minimum=1)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: the session cookie is renewed on every request and expires after this many
# minutes without one.
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30, minimum=1)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.min.js straight from the installed plotly package (outcomes/staticfinders.py)
    "outcomes.staticfinders.PlotlyFinder",
]
# Outside production whitenoise serves straight from the apps' static folders (no collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# The REST API (/api/v1/): token or session authentication (no Basic auth), scoped and
# throttled per token, documented by drf-spectacular. See registry/api/.
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "600/10m")
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["registry.api.permissions.TokenScope"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "registry.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["registry.api.throttling.PerTokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": API_THROTTLE_RATE},
    "DEFAULT_PAGINATION_CLASS": "registry.api.pagination.RecordCursorPagination",
    "PAGE_SIZE": 100,
    "COERCE_DECIMAL_TO_STRING": False,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "registry.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "registry.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Tokens (django-rest-knox): stored as a SHA-512 digest, never in clear; a user's token with
# no expiry lives until revoked. The model adds the scope and the de-identified flag.
KNOX_TOKEN_MODEL = "registry.ApiToken"  # noqa: S105 - a model name, not a secret
# knox's own migrations would create its unused default token table (swapped out above),
# whose foreign key to users blocks the TRUNCATE of transactional tests: skip them.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": None,
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_PREFIX": "ovcf_",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OVCF registry API",
    "DESCRIPTION": (
        "Clinical records and cohort aggregates of the OVCF registry. Authenticate with "
        "`Authorization: Token <key>` (or `Bearer <key>`); create a token at /account/tokens/."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status`: name each choice set so the schema's enums are stable.
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "outcomes.models.RunStatus",
        "ExportStatusEnum": "outcomes.exports.models.ExportStatus",
        "FindingStatusEnum": "outcomes.quality.models.FindingStatus",
    },
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    # Aggregate responses are typed by the statistics' result contract (outcomes/contract).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "outcomes.api.openapi.contract_components",
    ],
}
# The throttle's counters live in this cache: set CACHE_REDIS_URL so that every gunicorn
# worker counts against one budget (the default cache is per process).
CACHE_REDIS_URL = env_str("CACHE_REDIS_URL", "")
if CACHE_REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_REDIS_URL,
        }
    }

# Celery: without a broker, tasks run eagerly in-process (embedded default).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 1800, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 1500, minimum=1)
CELERY_TIMEZONE = TIME_ZONE
# Publishing: fail fast when the broker is down (a page must not hang; the statistics outbox
# sends the run later). Redis redelivers an unacknowledged message (a worker killed mid-run)
# after the visibility timeout, which must outlast the longest run (the hard time limit).
# A worker looks for such messages every `unacked_restore_interval` seconds; kombu's
# default scans only every 10th look (`unacked_restore_throttle`), about every 100 s, which
# a worker that started within the timeout of the kill waited out before redelivering.
visibility_timeout = env_int("CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 600, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "socket_connect_timeout": 2,
    "visibility_timeout": visibility_timeout,
    "unacked_restore_interval": max(1, min(60, visibility_timeout // 3)),
    "unacked_restore_throttle": 1,
}
# The outcomes app's periodic jobs (outcomes/tasks.py); crontab times are in TIME_ZONE.
CELERY_BEAT_SCHEDULE: dict = {
    "outcomes-nightly-standard-reports": {
        "task": "outcomes.refresh_standard_reports",
        "schedule": crontab(hour=2, minute=30),
    },
    "outcomes-refresh-after-changes": {"task": "outcomes.refresh_after_changes", "schedule": 60.0},
    "outcomes-sweep-runs": {"task": "outcomes.sweep_runs", "schedule": 300.0},
    # The statistics outbox: pending runs go out within a minute of the broker's return.
    "outcomes-dispatch-pending-runs": {
        "task": "outcomes.dispatch_pending_runs",
        "schedule": env_int("RUN_DISPATCH_EVERY_SECONDS", 30, minimum=1),
    },
    "outcomes-expire-exports": {"task": "outcomes.expire_exports", "schedule": 900.0},
    "quality-nightly-checks": {
        "task": "quality.nightly_checks",
        "schedule": crontab(hour=3, minute=15),
    },
    "quality-dispatch-pending": {"task": "quality.dispatch_pending", "schedule": 60.0},
}

# Cohort exports (outcomes/exports): where the zips are kept and for how long.
EXPORT_ROOT = Path(env_str("EXPORT_ROOT", str(BASE_DIR / "var" / "exports")))
EXPORT_EXPIRY_HOURS = env_int("EXPORT_EXPIRY_HOURS", 72, minimum=1)

# Data quality: the share of patients with a baseline and a follow-up ODI the registry aims
# for (the US quality measure for ODI follow-up uses 50 %).
QUALITY_PROM_TARGET_PERCENT = env_int("QUALITY_PROM_TARGET_PERCENT", 50, minimum=0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# --- Security (issue 13): sign-in defences, headers, access log ------------------------------
# Every variable is in README.md's table. Keep this block together: other sections are edited
# by other features.
from csp.constants import NONE, SELF  # noqa: E402 - grouped with the settings that use it

from registry.mail import email_settings  # noqa: E402

# Axes first: it refuses a locked-out sign-in before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "registry.auth_backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1) / 60  # hours
# Each listed parameter locks on its own: 5 failures for one username lock that account from
# every address, 5 failures from one address lock that address for every username.
AXES_LOCKOUT_PARAMETERS = env_list("LOGIN_LOCKOUT_BY", "username,ip_address")
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "registry.audit.client_ip"
AXES_VERBOSE = False
# The client address is REMOTE_ADDR, or behind this many proxies the matching entry of
# X-Forwarded-For (set it to 1 behind one TLS-terminating proxy, or lockouts by address would
# lock out everyone at once: they would all share the proxy's address).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

AUTH_PASSWORD_VALIDATORS[1]["OPTIONS"] = {
    "min_length": env_int("PASSWORD_MIN_LENGTH", 12, minimum=8)
}

SECOND_FACTOR_REQUIRED_FOR_ADMINS = env_bool("SECOND_FACTOR_REQUIRED_FOR_ADMINS", PRODUCTION)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "OVCF registry")

EMAIL_URL = env_str("EMAIL_URL", "")
EMAIL_CONFIGURED = bool(EMAIL_URL)
globals().update(email_settings(EMAIL_URL))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "registry@localhost")
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_MINUTES", 60, minimum=5) * 60

# No inline script or style anywhere, the admin included. Bootstrap's icons are data: SVGs.
# plotly.js: see README "Content-Security-Policy" (its styles come from a static file).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)

# Axes logs every attempt at INFO; the access log already records them.
LOGGING["loggers"] = {"axes": {"level": "WARNING"}}
# Pre-compressing (gzip + brotli) every static file takes a minute; a test run may skip it.
if PRODUCTION and not env_bool("STATIC_COMPRESS", True):
    STORAGES["staticfiles"]["BACKEND"] = (
        "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    )
ACCESS_LOG_RETENTION_DAYS = env_int("ACCESS_LOG_RETENTION_DAYS", 3650, minimum=1)
CELERY_BEAT_SCHEDULE["registry-purge-access-log"] = {
    "task": "registry.purge_access_log",
    "schedule": crontab(hour=3, minute=15),
}
# --- end of security (issue 13) --------------------------------------------------------------
