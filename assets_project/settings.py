"""Settings for the asset service.

Every value comes from the environment and has a working default, so a fresh checkout
runs on SQLite, the django-q2 ORM broker and local files with no configuration. The
variables are listed in README.md ("Configuration").
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from core.rules import MAX_PIXELS

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ASSETS_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_number(name: str, default, parse, what: str):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be {what}, got {raw!r}") from exc


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "a whole number")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# --- Core -----------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str(
    "DJANGO_SECRET_KEY", "insecure-development-key-set-DJANGO_SECRET_KEY-in-production"
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Before django_q: its `qcluster` command (assets/management/commands) replaces
    # django-q2's with one that also sweeps for waiting jobs and stops promptly.
    "assets",
    "django_q",
    "graphics",
]

MIDDLEWARE = [
    "assets.middleware.RequestIdMiddleware",
    "assets.telemetry.RequestTelemetryMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "assets.middleware.UploadLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "assets_project.urls"
WSGI_APPLICATION = "assets_project.wsgi.application"
ASGI_APPLICATION = "assets_project.asgi.application"

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

# --- Database -------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # The web process and the worker share the file: WAL lets readers run beside the
    # writer, IMMEDIATE transactions take the write lock up front instead of failing
    # with "database is locked" half-way, and the timeout waits for the lock. Connections
    # are kept, as for PostgreSQL (opening one per request costs about as much as serving
    # a stored rendition), and checked before reuse.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so a worker process started by a test sees the test data.
    DATABASES["default"]["TEST"] = {
        "NAME": env_str("ASSETS_TEST_DB", str(VAR_DIR / "test-db.sqlite3"))
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# djangorestframework-api-key: our keys live in assets.ApiKey; this header is read too.
API_KEY_CUSTOM_HEADER = "HTTP_X_API_KEY"

# --- I18N, static, media --------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# Static files (admin, API docs) are served by WhiteNoise straight from the installed
# apps, so the service works without a collectstatic step; `make run` still collects.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Local files by default; any S3-compatible service when AWS_STORAGE_BUCKET_NAME is set.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY", "") or None,
            "location": env_str("AWS_LOCATION", ""),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": True,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Upload and image limits (SPEC §7) ------------------------------------------------

ASSETS_MAX_UPLOAD_BYTES = env_int("ASSETS_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
ASSETS_MAX_PIXELS = env_int("ASSETS_MAX_PIXELS", MAX_PIXELS)

# Renditions (SPEC §9): the longest side one may have, how many an asset keeps (the least
# recently used go first), and the side of the thumbnail the worker makes after each
# upload and saved conversion (0: none).
ASSETS_RENDITION_MAX_SIDE = env_int("ASSETS_RENDITION_MAX_SIDE", 4096)
ASSETS_RENDITIONS_PER_ASSET = env_int("ASSETS_RENDITIONS_PER_ASSET", 50)
ASSETS_THUMBNAIL_SIDE = env_int("ASSETS_THUMBNAIL_SIDE", 256)
# Uploaded files above this size spool to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = None
# Non-file form fields and JSON bodies (data, schemas, image-graphics requests).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("ASSETS_MAX_JSON_BYTES", 5 * 1024 * 1024)

# --- Background removal models (SPEC §6, §8) ------------------------------------------

# Seconds a process remembers an API key it found valid (assets.auth): revoking a key or
# changing its user's role takes effect within this time. 0: looked up on every request.
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 5)

# rembg looks for models in U2NET_HOME; `manage.py install_model` puts them there.
U2NET_HOME = Path(os.path.expanduser(env_str("U2NET_HOME", "~/.u2net")))
os.environ["U2NET_HOME"] = str(U2NET_HOME)
BG_REMOVE_DEFAULT_MODEL = env_str("BG_REMOVE_DEFAULT_MODEL", "u2netp")
# Which installed model each `bg_mode` runs (graphics.model_choice). Unset (None): `auto`
# runs the default; `portrait` and `product` run ISNet when it is installed
# (core.model_catalogue.QUALITY_MODELS), else the default. A mode set to a model that is
# not installed runs the default, with a warning in the log.
BG_REMOVE_MODELS = {
    "auto": env_str("BG_REMOVE_MODEL_AUTO", "") or None,
    "portrait": env_str("BG_REMOVE_MODEL_PORTRAIT", "") or None,
    "product": env_str("BG_REMOVE_MODEL_PRODUCT", "") or None,
}
# An HTTP mirror of rembg's model downloads (the same file names) for sites that cannot
# reach rembg's; `manage.py install_model NAME` then fetches rembg's models, u2netp
# included, from it, verified by rembg's MD5.
BG_REMOVE_MODEL_MIRROR = env_str("BG_REMOVE_MODEL_MIRROR", "")

# onnxruntime's execution providers (in order of preference) and the intra-op threads one
# inference may use (0: adaptive, all cores for a lone inference and one each under load;
# graphics.processing.u2net.CorePool). Other requests wait for the model instead of
# oversubscribing the CPU.
BG_REMOVE_PROVIDERS = env_list("BG_REMOVE_PROVIDERS", "CPUExecutionProvider")
BG_REMOVE_THREADS = env_int("BG_REMOVE_THREADS", 0)
# What runs the u2net family on the CPU: onnxruntime (the leanest), or OpenVINO (1.5-1.7x
# onnxruntime's speed, the same mask, about 700 MB more per web worker: README, Serving).
# Providers other than the CPU always use onnxruntime.
BG_REMOVE_ENGINE = env_str("BG_REMOVE_ENGINE", "onnxruntime")
if BG_REMOVE_ENGINE not in ("openvino", "onnxruntime"):
    raise ImproperlyConfigured(f"BG_REMOVE_ENGINE must be openvino or onnxruntime, not {BG_REMOVE_ENGINE!r}")
# Background removals of images over BG_REMOVE_LARGE_PIXELS run at most
# BG_REMOVE_LARGE_AT_ONCE at a time per process (each holds ~200 MB of full-size buffers
# at 12 megapixels); smaller ones are not held back. 0 pixels: no limit.
BG_REMOVE_LARGE_PIXELS = env_int("BG_REMOVE_LARGE_PIXELS", 4_000_000)
BG_REMOVE_LARGE_AT_ONCE = env_int("BG_REMOVE_LARGE_AT_ONCE", 1)

# zlib level of the PNGs background removal returns (0-9). Level 2 was measured as the
# best time/size trade-off on photographs: see bench/bg_remove.py and README.md.
BG_REMOVE_PNG_LEVEL = env_int("BG_REMOVE_PNG_LEVEL", 2)

# Image Graphics: hosts `graphics_add` may fetch `image_url`s from (none by default),
# and the time limit of one fetch, in seconds.
IMAGE_GRAPHICS_URL_HOSTS = env_list("IMAGE_GRAPHICS_URL_HOSTS", "")
IMAGE_GRAPHICS_URL_TIMEOUT = env_int("IMAGE_GRAPHICS_URL_TIMEOUT", 10)

# --- REST framework and OpenAPI -------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "assets.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["assets.permissions.CanRead"],
    "DEFAULT_PARSER_CLASSES": [
        "assets.parsers.SafeJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "assets.pagination.AssetPagination",
    "EXCEPTION_HANDLER": "assets.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": ["assets.ratelimits.ApiKeyRateThrottle"],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Asset service API",
    "DESCRIPTION": "Originals, conversions, lineage, custom metadata, background removal "
    "and image graphics. Authenticate with `X-Api-Key: <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Background work (django-q2) ------------------------------------------------------

Q_BROKER = env_str("Q_BROKER", "orm")
# The database is the record of every job; the broker only wakes a worker (assets.jobs).
# A job is tried at most Q_MAX_ATTEMPTS times (an attempt ends early only when its worker
# dies); a running job holds a lease of JOB_LEASE_SECONDS, renewed while it runs, and the
# sweep in `manage.py qcluster` rings every JOBS_SWEEP_SECONDS for jobs that wait with no
# ring or whose lease ran out. On SIGTERM a busy worker gets Q_STOP_GRACE seconds to finish
# its job before the job is released for the next worker (honcho kills after 5 s).
Q_MAX_ATTEMPTS = env_int("Q_MAX_ATTEMPTS", 3)
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 30)
JOBS_SWEEP_SECONDS = env_int("JOBS_SWEEP_SECONDS", 15)
Q_STOP_GRACE = env_int("Q_STOP_GRACE", 3)
Q_CLUSTER = {
    "name": env_str("Q_CLUSTER_NAME", "assets"),
    # One worker per two cores (an inference uses the cores from within one process), and
    # at least two, so that a quick background save never waits behind a long job.
    "workers": env_int("Q_WORKERS", max(2, (os.cpu_count() or 2) // 2)),
    "timeout": env_int("Q_TIMEOUT", 300),
    # django-q2 hands a ring out again after `retry` seconds if its cluster died (ORM
    # broker); it must exceed `timeout`. A ring is never worth a second delivery (the
    # sweep rings again), so one attempt; failures are acknowledged.
    "retry": env_int("Q_RETRY", 360),
    "max_attempts": 1,
    "save_limit": 200,
    "catch_up": False,
    "poll": 0.2,
    "ack_failures": True,
    "label": "Background tasks",
}
if Q_BROKER == "orm":
    Q_CLUSTER["orm"] = "default"
elif Q_BROKER.startswith(("redis://", "rediss://", "unix://")):
    Q_CLUSTER["redis"] = Q_BROKER
else:
    raise ImproperlyConfigured("Q_BROKER must be 'orm' or a redis:// URL, got " + repr(Q_BROKER))

# --- Operations: webhooks, health, metrics, rate limits, logs (SPEC §11, §12) ------------

# Where the URLs in webhook payloads point (the worker has no request to take a host
# from); empty: they are paths, such as /api/v1/assets/<id>/content/original.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "")
# Webhook targets follow the image_url rules: no private, loopback or link-local address
# unless this is true. Each attempt has WEBHOOK_TIMEOUT seconds in all; a failed one is
# tried again after WEBHOOK_RETRY_SECONDS, then four times longer each time, up to
# WEBHOOK_MAX_ATTEMPTS (8 attempts over ~7.6 hours). Finished deliveries are kept
# WEBHOOK_KEEP_DAYS days.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_TIMEOUT = env_float("WEBHOOK_TIMEOUT", 10)
WEBHOOK_RETRY_SECONDS = env_float("WEBHOOK_RETRY_SECONDS", 5)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_KEEP_DAYS = env_int("WEBHOOK_KEEP_DAYS", 30)

# /readyz: each part (database, broker, storage, model) must answer within this many seconds.
READYZ_TIMEOUT = env_float("READYZ_TIMEOUT", 2)
# /metrics answers these addresses or networks only (REMOTE_ADDR: behind a proxy, the proxy's).
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "127.0.0.1,::1")
# prometheus-client's multiprocess mode (core.metrics): every web and worker process writes
# its values here, and a scrape adds them up. Set before prometheus-client is imported.
PROMETHEUS_MULTIPROC_DIR = Path(env_str("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "metrics")))
PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)

# Per API key (assets.ratelimits); 0 turns a limit off. Megapixels are those of the images
# the processing endpoints (Remove Background, Image Graphics) are sent.
RATE_LIMIT_REQUESTS_PER_MINUTE = env_int("RATE_LIMIT_REQUESTS_PER_MINUTE", 0)
RATE_LIMIT_MEGAPIXELS_PER_MINUTE = env_int("RATE_LIMIT_MEGAPIXELS_PER_MINUTE", 0)
# The cache holds the rate-limit counters, shared by every web worker: Redis when
# CACHE_URL (or else Q_BROKER) is a redis:// URL, the database's `assets_cache` table
# otherwise (made by `migrate`).
CACHE_URL = env_str("CACHE_URL", Q_BROKER if Q_BROKER.startswith(("redis://", "rediss://", "unix://")) else "db")
if CACHE_URL == "db":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "assets_cache"}}
elif CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "assets",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    raise ImproperlyConfigured("CACHE_URL must be 'db' or a redis:// URL, got " + repr(CACHE_URL))

# plain: one line of text per record; json: one JSON object per line (python-json-logger),
# with the request id, account, route, status and latency of each request, and the kind,
# outcome and duration of each job, as fields.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}")

# --- Logging --------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "assets.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # One line per request (assets.telemetry); with plain logs gunicorn's access log says it.
        "assets.requests": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
    },
}
