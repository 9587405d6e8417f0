"""The one settings module. Values come from config.env, never from literals that differ per site."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from accord.config import env

BASE_DIR = env.PROJECT_ROOT
DEBUG = env.DEBUG

if env.SECRET_KEY:
    SECRET_KEY = env.SECRET_KEY
elif env.DEBUG or not env.DATABASE_URL:
    # The embedded-SQLite demo runs on one machine; a real deployment sets a key
    # (and PostgreSQL), and refuses to start without one.
    SECRET_KEY = "accord-local-demo-key-not-for-production"
else:
    raise ImproperlyConfigured("ACCORD_SECRET_KEY must be set when ACCORD_DATABASE_URL is set")

ALLOWED_HOSTS = env.ALLOWED_HOSTS
CSRF_TRUSTED_ORIGINS = env.CSRF_TRUSTED_ORIGINS

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks_db",
    "ninja",
    "accord.core",
    "accord.accounts",
    "accord.capture",
    "accord.scoring",
    "accord.lifecycle",
    "accord.deals",
    "accord.planning",
    "accord.sla",
    "accord.imports",
    "accord.notifications",
    "accord.handoff",
    "accord.collaboration",
    "accord.analytics",
    "accord.privacy",
    "accord.web",
    "accord.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "accord.config.urls"
WSGI_APPLICATION = "accord.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accord.web.context_processors.navigation",
            ],
        },
    },
]


def _database() -> dict:
    if env.DATABASE_URL.startswith(("postgres://", "postgresql://")):
        config = dj_database_url.parse(env.DATABASE_URL, conn_max_age=60, conn_health_checks=True)
        config.setdefault("OPTIONS", {})
        # Django turns psycopg's prepared statements off (None), and then `prepare=True` is
        # ignored too: the form post's one statement was parsed and planned on every post,
        # 3–4 ms of the server's CPU. A threshold never reached prepares nothing on its own
        # but honours the statements that ask (docs/deploy.md: poolers).
        config["OPTIONS"].setdefault("prepare_threshold", 2**31 - 1)
        return config
    path = env.DATA_DIR / "accord.sqlite3"
    if env.DATABASE_URL.startswith("sqlite://"):
        path = dj_database_url.parse(env.DATABASE_URL)["NAME"]
    # The embedded database must open on a clean clone, so its folder is made here.
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # A file, not Django's in-memory default, so a real `accord worker` process and
        # the live test server can share the test database; one per test process.
        "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"accord-test-{os.getpid()}.sqlite3")},
        # Keep the connection for the worker's life: opening one runs the PRAGMAs below,
        # and closing the last one checkpoints the WAL, together ~10 ms a request.
        "CONN_MAX_AGE": None,
        "OPTIONS": {
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the
            # busy timeout instead of one failing with "database is locked" on upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            # FULL: a 2xx promises the write survives a power cut; NORMAL in WAL mode
            # can lose the last commits.
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=FULL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA cache_size=-65536;"
                "PRAGMA temp_store=MEMORY;"
            ),
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.TIME_ZONE
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.DATA_DIR / "static"
# WhiteNoise warns on every request when STATIC_ROOT is missing; collectstatic fills it.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = env.DATA_DIR / "media"
# Serve straight from the apps' static folders too, so `accord serve` works
# before (or without) collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = env.DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.SECURE_COOKIES
CSRF_COOKIE_SECURE = env.SECURE_COOKIES
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

TASKS = {
    "default": {
        "BACKEND": (
            "django.tasks.backends.immediate.ImmediateBackend"
            if env.TASKS_IMMEDIATE
            else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default", "periodic"],  # periodic: config/schedule.py, run by `accord worker`
    }
}

MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": env.EMAIL_HOST, "port": env.EMAIL_PORT,
            "username": env.EMAIL_USER, "password": env.EMAIL_PASSWORD,
            "use_tls": env.EMAIL_STARTTLS, "use_ssl": env.EMAIL_SSL, "timeout": 10,
        },
    }
}
DEFAULT_FROM_EMAIL = env.EMAIL_FROM
ACCORD_PUBLIC_URL = env.PUBLIC_URL
ACCORD_DIGEST_HOUR = env.DIGEST_HOUR
ACCORD_FILE_RETENTION_DAYS = env.FILE_RETENTION_DAYS
ACCORD_SLACK_REQUIRE_HTTPS = True  # tests point Slack at a local http receiver
ACCORD_WEBHOOK_ALLOW_PRIVATE = tuple(env.WEBHOOK_ALLOW_PRIVATE)

NINJA_PAGINATION_MAX_LIMIT = env.API_PAGE_SIZE_MAX
ACCORD_CURRENCY = env.CURRENCY

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"accord": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
