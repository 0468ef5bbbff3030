"""Settings for the user-management service, read from the environment.

Every documented variable is read here with its documented default;
`.env.example` lists them all. Two ways to run share this one module:
the embedded default (SQLite, database cache, inline Celery) and production
(PostgreSQL via DATABASE_URL, Redis via REDIS_URL, a Celery broker).
"""

import ipaddress
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote as _quote

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from core import signing_keys
from core.cache_breaker import connection_class_for
from core.env_urls import database_url_from_env, redis_url_from_env

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# ---------------------------------------------------------------------------
# Application
# ---------------------------------------------------------------------------
APP_NAME = env.str("APP_NAME", default="User Management Service")
SERVICE_NAME = "user-management"
SERVICE_VERSION = "0.1.0"
ENVIRONMENT = env.str("ENVIRONMENT", default="development")
IS_PRODUCTION = ENVIRONMENT == "production"
DEBUG = env.bool("DEBUG", default=False)

# Signing keys: from the environment, else from the install's local key file, which
# `make keys` (run by `make run`) fills with random keys once. Settings only read
# it. An empty value counts as unset.
SECRET_KEYS_FILE = signing_keys.keys_file_path(env)
_configured_secret = env.str("SECRET_KEY", default="")
_configured_jwt_secret = env.str("JWT_SECRET_KEY", default="")
if _configured_secret:
    _local_keys = {"SECRET_KEY": _configured_secret, "JWT_SECRET_KEY": _configured_secret}
elif "PYTEST_VERSION" in os.environ:
    # A test run signs with keys of its own; exported so that the service processes
    # a test starts (gunicorn, Celery) sign with the same ones.
    _local_keys = signing_keys.new_keys()
    os.environ.update(_local_keys)
elif IS_PRODUCTION:
    _local_keys = signing_keys.read_keys(SECRET_KEYS_FILE)
    if _local_keys is None:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set (and JWT_SECRET_KEY) when ENVIRONMENT=production, "
            f"or the local key file {SECRET_KEYS_FILE} made by `make run` must exist."
        )
else:
    _local_keys = signing_keys.read_keys(SECRET_KEYS_FILE)
    if _local_keys is None:
        raise ImproperlyConfigured(
            f"No signing keys: set SECRET_KEY and JWT_SECRET_KEY, or run `make keys` to make "
            f"random ones in the local key file {SECRET_KEYS_FILE}."
        )
SECRET_KEY = _configured_secret or _local_keys["SECRET_KEY"]
JWT_SECRET_KEY = _configured_jwt_secret or _local_keys["JWT_SECRET_KEY"]
# Values published in documentation and examples: anyone can sign with them.
KNOWN_DEFAULT_SECRETS = {
    "your-secret-key",
    "your-jwt-secret",
    "your-secret-key-change-in-production",
}
for _name, _value in (("SECRET_KEY", SECRET_KEY), ("JWT_SECRET_KEY", JWT_SECRET_KEY)):
    if _value in KNOWN_DEFAULT_SECRETS or (IS_PRODUCTION and len(_value) < 50):
        raise ImproperlyConfigured(
            f"{_name} must be set to a private random value of at least 50 characters "
            "(and always to a private value, whatever ENVIRONMENT says)."
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[]) or (
    [] if IS_PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "support.apps.ServiceAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_celery_beat",
    "django_prometheus",
    "corsheaders",
    "axes",
    "core",
    "tenants",
    "accounts",
    "apikeys",
    "credits",
    "messagelog",
    "events",
    "webhooks",
    "support",
    "security",
    "gateway",
    "oauth2_provider",
    "oauth",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.middleware.RequestIDMiddleware",
    "core.cache_headers.NoStoreApiMiddleware",
    "gateway.openai_errors.OpenAIErrorShapeMiddleware",
    "core.middleware.ApiErrorEnvelopeMiddleware",
    "core.middleware.RequestCharactersMiddleware",
    "security.middleware.RequestContextMiddleware",
    "security.middleware.FirewallMiddleware",
    "core.middleware.RequestSizeLimitMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.middleware.AccessLogMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

# ---------------------------------------------------------------------------
# Database: DATABASE_URL, else POSTGRES_* / DATABASE_* parts, else SQLite.
# ---------------------------------------------------------------------------
DATABASE_URL = database_url_from_env(env, default_sqlite_path=BASE_DIR / "var" / "db.sqlite3")
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and immediate transactions let several web processes share the file.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that a test can serve it from a real gunicorn process.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    # A health check is a `SELECT 1` round trip before the first query of every
    # request. Off by default: a connection PostgreSQL dropped fails one request and
    # is then replaced (Django closes a connection that raised at the request's end).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool(
        "DATABASE_CONN_HEALTH_CHECKS", default=False
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------
# Cache: Redis when REDIS_URL (or REDIS_HOST) is set, else a database table,
# so that revocations, limits and lockouts are shared between processes.
# ---------------------------------------------------------------------------
REDIS_URL = redis_url_from_env(env)
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="um")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
                # An unreachable Redis reads as a cache miss: callers fall back to
                # the database (the source of truth) instead of failing the request.
                "IGNORE_EXCEPTIONS": True,
                # After one timeout the rest of the request, and the process for
                # CACHE_OUTAGE_BACKOFF_SECONDS, skip Redis (core.cache_breaker).
                "CONNECTION_POOL_KWARGS": {"connection_class": connection_class_for(REDIS_URL)},
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cache_entries",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }

DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
# How long a process skips a Redis that timed out or refused a connection before
# asking it again; the request that met the failure skips it for its whole length.
CACHE_OUTAGE_BACKOFF_SECONDS = env.float("CACHE_OUTAGE_BACKOFF_SECONDS", default=5.0)
# How long a process may answer the authentication cache keys (API key and login
# session state, the cached user) from its own copy. Redis invalidates a copy the
# moment its key changes (core.cache_mirror); this only bounds a copy's age.
# 0 turns the copies off: every request reads Redis.
CACHE_MIRROR_SECONDS = env.float("CACHE_MIRROR_SECONDS", default=5.0)

# ---------------------------------------------------------------------------
# Celery: a broker when CELERY_BROKER_URL is set, else tasks run inline.
# ---------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "purge-login-sessions": {
        "task": "accounts.tasks.purge_login_sessions",
        "schedule": timedelta(hours=1),
    },
    "reset-daily-credits": {
        "task": "credits.tasks.reset_daily_credits",
        # On the hour, so the reset lands at DAILY_USAGE_RESET_HOUR:00, the moment a
        # CREDITS_EXHAUSTED answer's Retry-After names.
        "schedule": crontab(minute=0),
    },
    "purge-deleted-accounts": {
        "task": "accounts.tasks.purge_deleted_accounts",
        "schedule": timedelta(hours=6),
    },
    "clear-expired-oauth-tokens": {
        "task": "oauth.tasks.clear_expired_oauth_tokens",
        "schedule": timedelta(hours=1),
    },
}

# ---------------------------------------------------------------------------
# Users and passwords
# ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.auth.backends.EmailOrUsernameBackend",
]
# New and upgraded password hashes use PASSWORD_HASH_ALGORITHM; a hash of the other
# algorithm (or of other costs) still verifies and is re-made at the next login.
# argon2id defaults to Keycloak's: 5 passes over 7 MiB, one lane.
PASSWORD_HASH_ALGORITHM = env.str("PASSWORD_HASH_ALGORITHM", default="bcrypt").strip().lower()
BCRYPT_ROUNDS = env.int("BCRYPT_ROUNDS", default=12)
ARGON2_TIME_COST = env.int("ARGON2_TIME_COST", default=5)
ARGON2_MEMORY_COST_KIB = env.int("ARGON2_MEMORY_COST_KIB", default=7168)
ARGON2_PARALLELISM = env.int("ARGON2_PARALLELISM", default=1)
_PASSWORD_HASHERS_BY_ALGORITHM = {
    "bcrypt": "accounts.auth.hashers.ConfiguredBCryptSHA256PasswordHasher",
    "argon2id": "accounts.auth.hashers.ConfiguredArgon2PasswordHasher",
}
if PASSWORD_HASH_ALGORITHM not in _PASSWORD_HASHERS_BY_ALGORITHM:
    raise ImproperlyConfigured(
        f"PASSWORD_HASH_ALGORITHM must be 'bcrypt' or 'argon2id', not {PASSWORD_HASH_ALGORITHM!r}."
    )
if not 4 <= BCRYPT_ROUNDS <= 31:
    raise ImproperlyConfigured(f"BCRYPT_ROUNDS must be 4 to 31, not {BCRYPT_ROUNDS}.")
if not 1 <= ARGON2_TIME_COST <= 1000:
    raise ImproperlyConfigured(
        f"ARGON2_TIME_COST must be 1 to 1000 passes, not {ARGON2_TIME_COST}."
    )
if not 1 <= ARGON2_PARALLELISM <= 255:
    raise ImproperlyConfigured(
        f"ARGON2_PARALLELISM must be 1 to 255 lanes, not {ARGON2_PARALLELISM}."
    )
# Argon2 needs 8 KiB per lane; above 4 GiB a typo is likelier than a wish.
if not 8 * ARGON2_PARALLELISM <= ARGON2_MEMORY_COST_KIB <= 4 * 1024 * 1024:
    raise ImproperlyConfigured(
        f"ARGON2_MEMORY_COST_KIB must be {8 * ARGON2_PARALLELISM} (8 per lane) to 4194304 "
        f"(4 GiB), not {ARGON2_MEMORY_COST_KIB}."
    )
PASSWORD_HASHERS = [
    _PASSWORD_HASHERS_BY_ALGORITHM[PASSWORD_HASH_ALGORITHM],
    *(
        path
        for name, path in _PASSWORD_HASHERS_BY_ALGORITHM.items()
        if name != PASSWORD_HASH_ALGORITHM
    ),
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
PASSWORD_POLICY = env.str("PASSWORD_POLICY", default="default")
if PASSWORD_POLICY not in {"default", "nist"}:
    raise ImproperlyConfigured("PASSWORD_POLICY must be 'default' or 'nist'.")
PASSWORD_MAX_LENGTH = env.int("PASSWORD_MAX_LENGTH", default=1024)
_SIMILARITY = {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"}
_COMMON = {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"}
_MAX_LENGTH = {
    "NAME": "accounts.auth.password_policy.MaximumLengthValidator",
    "OPTIONS": {"max_length": PASSWORD_MAX_LENGTH},
}
if PASSWORD_POLICY == "nist":  # noqa: S105 - a policy name, not a password
    AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "accounts.auth.password_policy.NistLengthValidator"},
        _MAX_LENGTH,
        _SIMILARITY,
        _COMMON,
    ]
else:
    AUTH_PASSWORD_VALIDATORS = [
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": 8},
        },
        _MAX_LENGTH,
        {"NAME": "accounts.auth.password_policy.CompositionValidator"},
        _SIMILARITY,
        _COMMON,
    ]

USER_REGISTRATION_ENABLED = env.bool("USER_REGISTRATION_ENABLED", default=True)
EMAIL_VERIFICATION_ENABLED = env.bool("EMAIL_VERIFICATION_ENABLED", default=False)
DEFAULT_USER_CREDITS = env.json("DEFAULT_USER_CREDITS", default={"main": 5, "reset": 5})
DEFAULT_USER_LIMITS = env.json(
    "DEFAULT_USER_LIMITS", default={"conversation_limit": 10, "reset": 10}
)
# On PostgreSQL, commit each credit decrement without waiting for its WAL to reach
# the disk: faster metered calls, but a database crash can forget the last fraction
# of a second of decrements. Off: every decrement survives any crash.
CREDITS_ASYNC_COMMIT = env.bool("CREDITS_ASYNC_COMMIT", default=False)

# ---------------------------------------------------------------------------
# Tokens and sessions
# ---------------------------------------------------------------------------
JWT_ACCESS_TOKEN_EXPIRE_MINUTES = env.int("JWT_ACCESS_TOKEN_EXPIRE_MINUTES", default=30)
JWT_REFRESH_TOKEN_EXPIRE_DAYS = env.int("JWT_REFRESH_TOKEN_EXPIRE_DAYS", default=7)
REFRESH_TOKEN_DURATION_DAYS = env.int("REFRESH_TOKEN_DURATION_DAYS", default=30)
# The /v1 logins: the session token lives SESSION_DURATION_HOURS, its refresh token
# REFRESH_TOKEN_DURATION_DAYS. Staff sessions end after ADMIN_ / SUPPORT_SESSION_DURATION_HOURS
# whichever login opened them (refreshing does not extend them).
SESSION_DURATION_HOURS = env.int("SESSION_DURATION_HOURS", default=24)
ADMIN_SESSION_DURATION_HOURS = env.int("ADMIN_SESSION_DURATION_HOURS", default=24)
SUPPORT_SESSION_DURATION_HOURS = env.int("SUPPORT_SESSION_DURATION_HOURS", default=12)
# Multi-factor authentication, verification, reset, expiry, deletion.
OTP_TOTP_ISSUER = APP_NAME
MFA_CHALLENGE_SECONDS = env.int("MFA_CHALLENGE_SECONDS", default=300)
ADMIN_REQUIRE_MFA = env.bool("ADMIN_REQUIRE_MFA", default=False)
EMAIL_VERIFICATION_TIMEOUT_SECONDS = env.int(
    "EMAIL_VERIFICATION_TIMEOUT_SECONDS", default=3 * 24 * 3600
)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
PASSWORD_EXPIRY_DAYS = env.int("PASSWORD_EXPIRY_DAYS", default=0)
ACCOUNT_RECOVERY_DAYS = env.int("ACCOUNT_RECOVERY_DAYS", default=30)
LOGIN_SESSION_RETENTION_DAYS = env.int("LOGIN_SESSION_RETENTION_DAYS", default=30)
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=JWT_ACCESS_TOKEN_EXPIRE_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=JWT_REFRESH_TOKEN_EXPIRE_DAYS),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "LEEWAY": 0,
}

# ---------------------------------------------------------------------------
# OAuth 2.0 / OpenID Connect provider (django-oauth-toolkit) and social login
# ---------------------------------------------------------------------------
# The RS256 key signing ID tokens: OIDC_RSA_PRIVATE_KEY (PEM, `\n` for newlines) with
# OIDC_RSA_PRIVATE_KEYS_INACTIVE (keys rotated out, still in the JWKS), else the local
# file made by `make keys` and rotated by `manage.py rotate_oidc_key`.
OAUTH_ACCESS_TOKEN_EXPIRE_SECONDS = env.int("OAUTH_ACCESS_TOKEN_EXPIRE_SECONDS", default=3600)
OAUTH_REFRESH_TOKEN_EXPIRE_SECONDS = env.int(
    "OAUTH_REFRESH_TOKEN_EXPIRE_SECONDS", default=30 * 24 * 3600
)
OAUTH_AUTHORIZATION_CODE_EXPIRE_SECONDS = env.int(
    "OAUTH_AUTHORIZATION_CODE_EXPIRE_SECONDS", default=60
)
OAUTH_ID_TOKEN_EXPIRE_SECONDS = env.int("OAUTH_ID_TOKEN_EXPIRE_SECONDS", default=3600)
# Redirect URIs must be https; plain http is accepted outside production for local clients.
OAUTH_REDIRECT_URI_SCHEMES = env.list(
    "OAUTH_REDIRECT_URI_SCHEMES", default=["https"] if IS_PRODUCTION else ["https", "http"]
)
OIDC_KEYS_FILE = signing_keys.oidc_keys_file_path(env)
_oidc_active_key = env.str("OIDC_RSA_PRIVATE_KEY", default="", multiline=True)
_oidc_inactive_keys = [
    key.replace("\\n", "\n") for key in env.list("OIDC_RSA_PRIVATE_KEYS_INACTIVE", default=[])
]
if not _oidc_active_key and "PYTEST_VERSION" in os.environ:
    # A test run signs with a key of its own, shared with the servers it starts.
    _oidc_active_key = signing_keys.new_rsa_private_key()
    os.environ["OIDC_RSA_PRIVATE_KEY"] = _oidc_active_key.replace("\n", "\\n")
elif not _oidc_active_key:
    _oidc_file_keys = signing_keys.read_oidc_keys(OIDC_KEYS_FILE)
    if _oidc_file_keys is None:
        raise ImproperlyConfigured(
            "No OpenID Connect signing key: set OIDC_RSA_PRIVATE_KEY, or run `make keys` "
            f"to make one in the local key file {OIDC_KEYS_FILE}."
        )
    _oidc_active_key = _oidc_file_keys.active
    # A retired key is published while ID tokens it signed may still be presented.
    _oidc_inactive_keys += _oidc_file_keys.inactive_since(
        datetime.now(UTC) - timedelta(seconds=OAUTH_ID_TOKEN_EXPIRE_SECONDS)
    )
# The application model carries the tenant; the others are the toolkit's, named so
# that migrations referring to them resolve.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth.Application"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 (a model)
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _oidc_active_key,
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": _oidc_inactive_keys,
    "OIDC_ISS_ENDPOINT": env.str("OIDC_ISSUER", default=""),
    "OAUTH2_VALIDATOR_CLASS": "oauth.validators.TenantOAuth2Validator",
    "SCOPES_BACKEND_CLASS": "oauth.scopes.PermissionScopes",
    "ACCESS_TOKEN_GENERATOR": "oauth.tokens.access_token_value",
    "REFRESH_TOKEN_GENERATOR": "oauth.tokens.refresh_token_value",
    "ACCESS_TOKEN_EXPIRE_SECONDS": OAUTH_ACCESS_TOKEN_EXPIRE_SECONDS,
    "REFRESH_TOKEN_EXPIRE_SECONDS": OAUTH_REFRESH_TOKEN_EXPIRE_SECONDS,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": OAUTH_AUTHORIZATION_CODE_EXPIRE_SECONDS,
    "ID_TOKEN_EXPIRE_SECONDS": OAUTH_ID_TOKEN_EXPIRE_SECONDS,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Public clients always (TenantOAuth2Validator.is_pkce_required); S256 only.
    "PKCE_REQUIRED": True,
    # RFC 9700 (the OAuth security BCP) throughout: no implicit or password grant,
    # no tokens in query strings, `iss` in authorization responses, tokens stored
    # only as digests, and `check --deploy` errors on a non-compliant setting.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": IS_PRODUCTION,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": OAUTH_REDIRECT_URI_SCHEMES,
    "ALLOWED_SCHEMES": OAUTH_REDIRECT_URI_SCHEMES,
    "REQUEST_APPROVAL_PROMPT": "force",
    "DEFAULT_SCOPES": ["openid"],
    "APPLICATION_ADMIN_CLASS": "oauth.admin.TenantApplicationAdmin",
}
# Social login: providers by name (oauth.social); each entry's keys are documented in
# docs/oauth.md. Empty: no social login.
SOCIAL_LOGIN_PROVIDERS = env.json("SOCIAL_LOGIN_PROVIDERS", default={})

# ---------------------------------------------------------------------------
# Defences: client IP, account lockout, firewall, rate limits, IP allowlist
# ---------------------------------------------------------------------------
# Proxies (IPs or CIDRs) whose X-Forwarded-For is believed; nobody else's is.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

MAX_FAILED_LOGIN_ATTEMPTS = env.int("MAX_FAILED_LOGIN_ATTEMPTS", default=5)
ACCOUNT_LOCKOUT_DURATION_HOURS = env.float("ACCOUNT_LOCKOUT_DURATION_HOURS", default=1)
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = MAX_FAILED_LOGIN_ATTEMPTS
AXES_COOLOFF_TIME = timedelta(hours=ACCOUNT_LOCKOUT_DURATION_HOURS)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "security.lockout.lockout_username"
AXES_HANDLER = "security.lockout.AccountLockoutHandler"
# How security.lockout finds the account an identifier names (the login backend's lookup).
LOCKOUT_ACCOUNT_LOOKUP = "accounts.selectors.user_get_by_identifier"
AXES_CLIENT_IP_CALLABLE = "security.client_ip.axes_client_ip"
AXES_RESET_ON_SUCCESS = True
# A lockout ends at a known time: attempts during it do not push it further.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HTTP_RESPONSE_CODE = 423
AXES_LOCKOUT_CALLABLE = "security.lockout.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password", "new_password", "current_password", "old_password"]
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True

FIREWALL_ENABLED = env.bool("FIREWALL_ENABLED", default=True)
FIREWALL_RATE_LIMIT = env.str("FIREWALL_RATE_LIMIT", default="60/m")
FIREWALL_FAILED_ATTEMPTS = env.int("FIREWALL_FAILED_ATTEMPTS", default=5)
FIREWALL_BLOCK_MINUTES = env.int("FIREWALL_BLOCK_MINUTES", default=15)
# Addresses the firewall never blocks (failures not counted, blocks not enforced):
# loopback (a developer's machine; behind a proxy without TRUSTED_PROXIES every client
# looks like loopback, so off by default), and addresses on the IP allowlist.
FIREWALL_EXEMPT_LOOPBACK = env.bool("FIREWALL_EXEMPT_LOOPBACK", default=False)
FIREWALL_EXEMPT_ALLOWLISTED = env.bool("FIREWALL_EXEMPT_ALLOWLISTED", default=False)

RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_IP_META_KEY = "security.client_ip.client_ip"
# Outages are handled per limit by security.ratelimits (fail open or closed).
RATELIMIT_FAIL_OPEN = False
RATELIMIT_LOGIN = env.str("RATELIMIT_LOGIN", default="20/m")
RATELIMIT_LOGIN_ACCOUNT = env.str("RATELIMIT_LOGIN_ACCOUNT", default="10/m")
RATELIMIT_REGISTER = env.str("RATELIMIT_REGISTER", default="20/h")
RATELIMIT_REFRESH = env.str("RATELIMIT_REFRESH", default="30/m")
RATELIMIT_PASSWORD_CHANGE = env.str("RATELIMIT_PASSWORD_CHANGE", default="5/m")
RATELIMIT_PASSWORD_CONFIRM = env.str("RATELIMIT_PASSWORD_CONFIRM", default="10/m")
RATELIMIT_PASSWORD_RESET = env.str("RATELIMIT_PASSWORD_RESET", default="5/h")
RATELIMIT_MFA = env.str("RATELIMIT_MFA", default="10/m")
RATELIMIT_API_KEY_CREATE = env.str("RATELIMIT_API_KEY_CREATE", default="20/h")
RATELIMIT_AVATAR_UPLOAD = env.str("RATELIMIT_AVATAR_UPLOAD", default="10/m")

IP_WHITELIST_ENABLED = env.bool("IP_WHITELIST_ENABLED", default=False)
# Who may read /api/v1/health/detailed and /metrics without a platform admin's token
# (support.api.permissions): addresses or CIDR networks, e.g. a Prometheus network.
MONITORING_ALLOWED_IPS = env.list("MONITORING_ALLOWED_IPS", default=["127.0.0.1", "::1"])
try:
    for _network in MONITORING_ALLOWED_IPS:
        ipaddress.ip_network(_network, strict=False)
except ValueError as _error:
    raise ImproperlyConfigured(f"MONITORING_ALLOWED_IPS: {_error}") from _error

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]

# ---------------------------------------------------------------------------
# Message log: queued in Redis, flushed in batches (messagelog.services).
# ---------------------------------------------------------------------------
MESSAGE_LOGGING_ENABLED = env.bool("MESSAGE_LOGGING_ENABLED", default=True)
MESSAGE_BATCH_SIZE = env.int("MESSAGE_BATCH_SIZE", default=50)
MESSAGE_FLUSH_INTERVAL_SECONDS = env.int("MESSAGE_FLUSH_INTERVAL_SECONDS", default=600)
MESSAGE_MAX_QUEUE_SIZE = env.int("MESSAGE_MAX_QUEUE_SIZE", default=1000)
# 0 (the default): each request pushes its entries to Redis (or writes them to the
# database) before it answers, so no answered conversation is only in memory. Above
# 0 opts into the relay: a thread gathers entries for this long and pushes them in
# one round trip after the answers left, and a process killed outright (SIGKILL, out
# of memory) loses what it held (docs/message-log.md).
MESSAGE_RELAY_GATHER_MS = env.int("MESSAGE_RELAY_GATHER_MS", default=0)
if not 1 <= MESSAGE_BATCH_SIZE <= 5000 or MESSAGE_MAX_QUEUE_SIZE < MESSAGE_BATCH_SIZE:
    raise ImproperlyConfigured(
        "MESSAGE_BATCH_SIZE must be 1 to 5000 and MESSAGE_MAX_QUEUE_SIZE at least as large."
    )
if not 0 <= MESSAGE_RELAY_GATHER_MS <= 10_000:
    raise ImproperlyConfigured("MESSAGE_RELAY_GATHER_MS must be 0 to 10000.")
if MESSAGE_FLUSH_INTERVAL_SECONDS < 1:
    raise ImproperlyConfigured("MESSAGE_FLUSH_INTERVAL_SECONDS must be at least 1.")
CELERY_BEAT_SCHEDULE["flush-message-log"] = {
    "task": "messagelog.tasks.flush_message_log",
    "schedule": timedelta(seconds=MESSAGE_FLUSH_INTERVAL_SECONDS),
}
# Conversations older than this many days are deleted by an hourly job (0: kept forever,
# the default: deleting what users can read back is the operator's policy to choose).
MESSAGE_RETENTION_DAYS = env.int("MESSAGE_RETENTION_DAYS", default=0)
# Rows per DELETE statement, and how long one run may go on before leaving the rest
# to the next hour: no statement locks many rows, no run holds a worker long.
MESSAGE_PURGE_BATCH_SIZE = env.int("MESSAGE_PURGE_BATCH_SIZE", default=5000)
MESSAGE_PURGE_TIME_BUDGET_SECONDS = env.int("MESSAGE_PURGE_TIME_BUDGET_SECONDS", default=60)
if MESSAGE_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("MESSAGE_RETENTION_DAYS must be 0 (keep forever) or more.")
if not 1 <= MESSAGE_PURGE_BATCH_SIZE <= 100_000:
    raise ImproperlyConfigured("MESSAGE_PURGE_BATCH_SIZE must be 1 to 100000.")
if MESSAGE_PURGE_TIME_BUDGET_SECONDS < 1:
    raise ImproperlyConfigured("MESSAGE_PURGE_TIME_BUDGET_SECONDS must be at least 1.")
CELERY_BEAT_SCHEDULE["purge-message-log"] = {
    "task": "messagelog.tasks.purge_message_log",
    "schedule": crontab(minute=17),
}

# ---------------------------------------------------------------------------
# Domain events (events.relay) and webhooks (webhooks.delivery)
# ---------------------------------------------------------------------------
# Where events are published: EVENTS_BROKER_URL when set (amqp://, amqps://, redis://);
# else RabbitMQ when RABBITMQ_HOST is set; else a Redis stream on REDIS_URL; else
# nowhere (the embedded default: the outbox and the webhooks still work).
RABBITMQ_HOST = env.str("RABBITMQ_HOST", default="")
RABBITMQ_PORT = env.int("RABBITMQ_PORT", default=5672)
RABBITMQ_USER = env.str("RABBITMQ_USER", default="guest")
RABBITMQ_PASSWORD = env.str("RABBITMQ_PASSWORD", default="guest")
RABBITMQ_VHOST = env.str("RABBITMQ_VHOST", default="/")
EVENTS_BROKER_URL = env.str("EVENTS_BROKER_URL", default="")
if not EVENTS_BROKER_URL and RABBITMQ_HOST:
    EVENTS_BROKER_URL = (
        f"amqp://{_quote(RABBITMQ_USER, safe='')}:{_quote(RABBITMQ_PASSWORD, safe='')}"
        f"@{RABBITMQ_HOST}:{RABBITMQ_PORT}/{_quote(RABBITMQ_VHOST, safe='')}"
    )
if not EVENTS_BROKER_URL and REDIS_URL:
    EVENTS_BROKER_URL = REDIS_URL
# The durable topic exchange events go to (routing key: the event type), and a durable
# queue bound to every event, declared only when named (a queue nobody reads grows).
EVENTS_EXCHANGE = env.str("EVENTS_EXCHANGE", default="user_management.events")
EVENTS_AMQP_QUEUE = env.str("EVENTS_AMQP_QUEUE", default="")
EVENTS_REDIS_STREAM = env.str("EVENTS_REDIS_STREAM", default="user_management:events")
EVENTS_REDIS_STREAM_MAXLEN = env.int("EVENTS_REDIS_STREAM_MAXLEN", default=100_000)
EVENTS_RELAY_BATCH_SIZE = env.int("EVENTS_RELAY_BATCH_SIZE", default=200)
EVENTS_RELAY_INTERVAL_SECONDS = env.int("EVENTS_RELAY_INTERVAL_SECONDS", default=60)
# Published events stay in the outbox this many days (the admin shows them), then go.
EVENTS_RETENTION_DAYS = env.int("EVENTS_RETENTION_DAYS", default=7)
if not 1 <= EVENTS_RELAY_BATCH_SIZE <= 5000:
    raise ImproperlyConfigured("EVENTS_RELAY_BATCH_SIZE must be 1 to 5000.")
if EVENTS_RELAY_INTERVAL_SECONDS < 1 or EVENTS_RETENTION_DAYS < 1:
    raise ImproperlyConfigured(
        "EVENTS_RELAY_INTERVAL_SECONDS and EVENTS_RETENTION_DAYS must be at least 1."
    )
CELERY_BEAT_SCHEDULE["relay-events"] = {
    "task": "events.tasks.relay_events",
    "schedule": timedelta(seconds=EVENTS_RELAY_INTERVAL_SECONDS),
}
CELERY_BEAT_SCHEDULE["prune-events"] = {
    "task": "events.tasks.prune_events",
    "schedule": crontab(minute=41),
}
# Webhooks never reach private, loopback, link-local or reserved addresses (cloud
# metadata included) unless this is on (tests, a closed network).
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10)
# A failed delivery is tried again after WEBHOOK_RETRY_BASE_SECONDS, then twice as
# long each time (capped at a day), WEBHOOK_MAX_ATTEMPTS times in all.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_MAX_ENDPOINTS_PER_TENANT = env.int("WEBHOOK_MAX_ENDPOINTS_PER_TENANT", default=20)
# Succeeded and failed deliveries older than this are deleted hourly (replay needs them).
WEBHOOK_DELIVERY_RETENTION_DAYS = env.int("WEBHOOK_DELIVERY_RETENTION_DAYS", default=30)
if WEBHOOK_DELIVERY_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("WEBHOOK_DELIVERY_RETENTION_DAYS must be at least 1.")
if not 1 <= WEBHOOK_MAX_ATTEMPTS <= 30 or WEBHOOK_RETRY_BASE_SECONDS < 1:
    raise ImproperlyConfigured(
        "WEBHOOK_MAX_ATTEMPTS must be 1 to 30 and WEBHOOK_RETRY_BASE_SECONDS at least 1."
    )
if not 0 < WEBHOOK_TIMEOUT_SECONDS <= 60:
    raise ImproperlyConfigured("WEBHOOK_TIMEOUT_SECONDS must be above 0 and at most 60.")
CELERY_BEAT_SCHEDULE["retry-webhook-deliveries"] = {
    "task": "webhooks.tasks.deliver_due_webhooks",
    "schedule": timedelta(seconds=30),
}
CELERY_BEAT_SCHEDULE["prune-webhook-deliveries"] = {
    "task": "webhooks.tasks.prune_webhook_deliveries",
    "schedule": crontab(minute=43),
}
# `credits.low` fires when a consume brings the conversation limit down to this many
# (0: never); a tenant's `credits_low_threshold` setting overrides it for its members.
CREDITS_LOW_THRESHOLD = env.int("CREDITS_LOW_THRESHOLD", default=2)
if CREDITS_LOW_THRESHOLD < 0:
    raise ImproperlyConfigured("CREDITS_LOW_THRESHOLD must be 0 (off) or more.")

# ---------------------------------------------------------------------------
# Metered endpoints and credits
# ---------------------------------------------------------------------------
LLM_BACKEND_URL = env.str("LLM_BACKEND_URL", default="")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
LLM_TIMEOUT_SECONDS = env.float("LLM_TIMEOUT_SECONDS", default=30)
LLM_DEFAULT_MODEL = env.str("LLM_DEFAULT_MODEL", default="echo-1")
# The models GET /v1/models lists and /v1/chat/completions accepts (empty: the default);
# when set, /v1/prompt/completions and /v1/batch/process accept no other either.
LLM_MODELS = env.list("LLM_MODELS", default=[])
# The most tokens one conversation credit buys on every metered route: a larger
# max_tokens is refused, and a call without one is sent upstream with this.
LLM_MAX_TOKENS = env.int("LLM_MAX_TOKENS", default=4096)
if LLM_MAX_TOKENS < 1:
    raise ImproperlyConfigured("LLM_MAX_TOKENS must be at least 1.")
BATCH_MAX_PROMPTS = env.int("BATCH_MAX_PROMPTS", default=20)
AUTO_CREDIT_RESET_ENABLED = env.bool("AUTO_CREDIT_RESET_ENABLED", default=True)
DAILY_USAGE_RESET_HOUR = env.int("DAILY_USAGE_RESET_HOUR", default=0)
if not 0 <= DAILY_USAGE_RESET_HOUR <= 23:
    raise ImproperlyConfigured("DAILY_USAGE_RESET_HOUR is an hour of the day, 0 to 23 (UTC).")

# ---------------------------------------------------------------------------
# REST API and its documentation
# ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apikeys.authentication.APIKeyAuthentication",
        "accounts.auth.authentication.SessionJWTAuthentication",
        "oauth.authentication.OAuthTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.SafeJSONParser"],
    "DEFAULT_METADATA_CLASS": "core.metadata.ViewMetadata",
    "DEFAULT_SCHEMA_CLASS": "core.openapi.EnvelopeAutoSchema",
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
_SYSTEM_FONTS = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
SPECTACULAR_SETTINGS = {
    "TITLE": APP_NAME,
    "DESCRIPTION": (
        "Accounts, tenants, roles, JWT login sessions, API keys and credits for AI "
        "platforms. Every error uses one envelope: success, message, errors, details."
    ),
    "VERSION": SERVICE_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    # The document is public: a credential sent along (an API key, a stale token) is
    # not read, so it cannot turn the document into a 401.
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # /docs and /redoc load nothing from outside the service: the assets come from
    # drf-spectacular-sidecar, ReDoc's page (templates/drf_spectacular/redoc.html) links
    # no web fonts and uses the system's, and Swagger UI asks no online validator.
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": _SYSTEM_FONTS,
                "headings": {"fontFamily": _SYSTEM_FONTS},
            }
        }
    },
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["core.openapi.strip_optional_trailing_slash"],
    "ENUM_NAME_OVERRIDES": {
        "UserStatusEnum": "accounts.models.User.Status",
        "ManageableStatusEnum": "accounts.api.serializers.MANAGEABLE_STATUS_CHOICES",
    },
}

# Requests larger than this are refused with 413 before any view reads them.
MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=2_621_440)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

# ---------------------------------------------------------------------------
# Email
# ---------------------------------------------------------------------------
SMTP_HOST = env.str("SMTP_HOST", default="")
if SMTP_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = SMTP_HOST
    EMAIL_PORT = env.int("SMTP_PORT", default=587)
    EMAIL_HOST_USER = env.str("SMTP_USERNAME", default="")
    EMAIL_HOST_PASSWORD = env.str("SMTP_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("SMTP_USE_TLS", default=True)
else:
    # The emails carry tokens: kept in a private directory, never printed (core.mail).
    EMAIL_BACKEND = "core.mail.LocalMailboxBackend"
    EMAIL_FILE_PATH = str(BASE_DIR / (env.str("EMAIL_FILE_PATH", default="") or "var/mail"))
DEFAULT_FROM_EMAIL = env.str("FROM_EMAIL", default="noreply@example.com")

# ---------------------------------------------------------------------------
# Internationalisation, static files
# ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# The languages a user may choose in their preferences (`language`); "en", the
# platform default, must be one of them.
PREFERENCE_LANGUAGES = env.list(
    "PREFERENCE_LANGUAGES", default=["en", "de", "es", "fr", "it", "ja", "ko", "nl", "pt", "zh"]
)
if "en" not in PREFERENCE_LANGUAGES:
    raise ImproperlyConfigured("PREFERENCE_LANGUAGES must include 'en', the default language.")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# Filled by `collectstatic` (`make run` and the image build run it).
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
# Uploaded files (avatars) through the default storage. The storage makes its folders
# when it first saves a file; these settings only name them. `/media/avatars/<name>`
# serves avatars from the storage (accounts.api.media_views); a web server or an
# object store in front of MEDIA_URL may serve them instead.
MEDIA_ROOT = BASE_DIR / (env.str("MEDIA_ROOT", default="") or "var/media")
MEDIA_URL = env.str("MEDIA_URL", default="/media/")

# ---------------------------------------------------------------------------
# Transport security: strict in production, relaxed for the embedded default.
# ---------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if IS_PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env.bool("USE_X_FORWARDED_PROTO", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^api/v1/health/"]

# ---------------------------------------------------------------------------
# Logging: JSON lines through structlog, each carrying the request id.
# ---------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": "core.logging.build_formatter",
            "log_format": LOG_FORMAT,
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "structured"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

# The username is unique case-insensitively (a LOWER() unique index), which is
# stricter than the plain unique flag this check looks for.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
# Lockout is per account here; per-IP failures are the firewall's job (IP blocks),
# so that one IP walking through many accounts is blocked without locking them.
SILENCED_SYSTEM_CHECKS.append("axes.W006")
if IS_PRODUCTION and not SECURE_HSTS_PRELOAD:
    # Preload-listing a domain is hard to undo; the operator opts in with
    # SECURE_HSTS_PRELOAD=true rather than this service choosing it for them.
    SILENCED_SYSTEM_CHECKS.append("security.W021")
