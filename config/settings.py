"""Settings for il2-ecrf: one module, every value from the environment.

With DEBUG off (production), SECRET_KEY, ALLOWED_HOSTS and REMINDER_SITE_URL must be given or
start-up stops with a clear message. See README.md for the variables.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("IL2_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "insecure-development-key-only-for-DEBUG-" + "x" * 20
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(a long random string), or DEBUG=1 for local development."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    if DEBUG:
        ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
    else:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS is not set. Set ALLOWED_HOSTS to the comma-separated host names "
            "this server answers to, or DEBUG=1 for local development."
        )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "axes",
    "pgtrigger",
    "pghistory",
    "core",
    "audit",
    "accounts",
    "signatures",
    "trials",
    "patients",
    "assessments",
    "safety",
    "notifications",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.sessions.IdleSessionMiddleware",  # after sessions: keeps a used session alive
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.language.UserLanguageMiddleware",  # after auth: the user's stored choice
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "axes.middleware.AxesMiddleware",
    "accounts.lockout.LockoutMiddleware",  # after axes: it turns the lock into the answer
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
                "trials.context_processors.memberships",
                "notifications.context_processors.bell",
            ],
        },
    },
]

# PostgreSQL everywhere. `make run` / `make test` start an embedded server and export
# DATABASE_URL when none is given, so reaching this default means a misconfiguration.
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Use `make run` / `make test` (they start an embedded "
        "PostgreSQL), or set DATABASE_URL=postgres://user:password@host:5432/dbname."
    )
# The app connects as a role that may only append to the audit trail; migrations and
# `setup_database_roles` run as the owner (`--database owner`). Without DATABASE_OWNER_URL
# both are the same role (development, tests).
DATABASE_OWNER_URL = env_str("DATABASE_OWNER_URL") or DATABASE_URL
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60),
    "owner": dj_database_url.parse(DATABASE_OWNER_URL),
}
# A read replica (a streaming-replication standby) for reports and exports, optional: code
# reads from it only inside core.replica.using_replica(), and never writes to it
# (config.routers). Tests mirror it to the default database instead of creating a copy.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=60)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# No JIT compilation of the app's queries: PostgreSQL compiles a query whose estimated cost
# passes jit_above_cost (after a bulk load, before ANALYZE, a page's query can), which costs
# tens of milliseconds for a query that runs in a few. The replica keeps the server's
# setting, for reports.
_default_options = DATABASES["default"].setdefault("OPTIONS", {})
_default_options["options"] = f"{_default_options.get('options', '')} -c jit=off".strip()
DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]
for _alias, _db in DATABASES.items():
    if not _db["ENGINE"].endswith("postgresql"):
        raise ImproperlyConfigured(f"il2-ecrf needs PostgreSQL: {_alias} URL must be postgres://.")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.passwords.NotTheCurrentPassword"},
    {"NAME": "accounts.passwords.ChangingRevokesApiTokens"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lock an account+address out after repeated failures (21 CFR Part 11 §11.300(d)); wrong
# signing passwords count as failed log-ins (accounts/lockout.py).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Axes keeps the failed request's form: an unblinding's medical reason stays out of it.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "reason"]

# API tokens (accounts/tokens.py) stop working this many days after they are made.
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 30)

# The browser runs and styles only with the application's own static files (no inline
# script, handler or style attribute: the templates pass data with json_script). Bootstrap's
# stylesheet draws its icons with data: images. Set by config.security's middleware.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# Sessions end after inactivity: use renews their expiry, at most once a minute
# (accounts.sessions.IdleSessionMiddleware).
# A login writes its new session once (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "accounts.authentication.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "il2-ecrf API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# E-mail: Django's own variable names.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "il2-ecrf <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: a broker that needs no server when none is given (kombu's filesystem transport).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        # kombu otherwise writes its broadcast exchange to ./control in the working directory
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# Reminders (notifications app): the sweep's period and look-back, how long a worker's
# claim on a notification holds, and how sending is retried before it is marked failed.
REMINDER_SWEEP_MINUTES = env_int("REMINDER_SWEEP_MINUTES", 5)
REMINDER_LOOKBACK_DAYS = env_int("REMINDER_LOOKBACK_DAYS", 7)
REMINDER_CLAIM_TIMEOUT_SECONDS = env_int("REMINDER_CLAIM_TIMEOUT_SECONDS", 300)
REMINDER_MAX_ATTEMPTS = env_int("REMINDER_MAX_ATTEMPTS", 5)
REMINDER_RETRY_BACKOFF_SECONDS = env_int("REMINDER_RETRY_BACKOFF_SECONDS", 60)
# Local hour (the recipient's site) from which the day's digest of routine reminders is sent.
REMINDER_DIGEST_HOUR = env_int("REMINDER_DIGEST_HOUR", 7)
REMINDER_SITE_URL = env_str("REMINDER_SITE_URL")  # put in front of links in e-mails
if not REMINDER_SITE_URL and not DEBUG:
    raise ImproperlyConfigured(
        "REMINDER_SITE_URL is not set. Set it to the address users open the site at "
        "(https://ecrf.example.org): e-mails link there. DEBUG=1 leaves links relative."
    )

# Production hardening; `manage.py check --deploy` is clean with DEBUG off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading commits the whole hospital domain to HTTPS in browsers: the hospital's IT
    # decides (SECURE_HSTS_PRELOAD=1); until then the check's reminder is silenced.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
