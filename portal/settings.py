"""Settings for SRDI Portal, read from the environment.

One module for every run mode. With no environment at all it runs the embedded
default (SQLite, in-process tasks, local-memory cache); `DATABASE_URL` and
`REDIS_URL` switch to the full stack. A value that production needs and lacks
fails loudly with the variable's name instead of falling back to a guess.
"""

from pathlib import Path

import csp.constants as csp
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. "
            "Set the SECRET_KEY environment variable (50+ random characters), "
            "or DEBUG=true for local development."
        )
    # Development only: a fixed key so sessions survive restarts of `make run`.
    SECRET_KEY = "dev-only-not-secret-" + "x" * 40

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The admin site whose login is the portal's own, with its second factor (portal.auth.admin_site).
    "portal.auth.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "portal",
    "portal.auth",
    "enterprises",
    "certification",
    "funding",
    "reports",
]

MIDDLEWARE = [
    # First: a request id for every response and log line, and the audit rows of refusals and file
    # downloads and exports, whichever middleware or view produced the response (reliability.md L1, L2).
    "portal.audit_middleware.AuditMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.security.AuthenticatedNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.tenancy.TenantMiddleware",
    # After TenantMiddleware, so its 429 page wears the tenant's header (reliability.md V7).
    "portal.security.RateLimitMiddleware",
    # After TenantMiddleware (its process_view needs request.tenant) and messages.
    "portal.auth.sessions.AbsoluteSessionLimitMiddleware",
    # Last: turns axes' lockout flag into the lockout page or API error (reliability.md A4).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db' / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {})
    # WAL lets the dev server read while a background write is in flight.
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL;")
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT: the portal's queries run for milliseconds, and compiling one that the planner costs high (a
    # dashboard count over 100,000 rows) took longer than running it (bench/dashboard.py: ~150 ms of JIT).
    # No parallel query either: starting two worker processes for a 20-ms count cost more than it saved and made
    # the slow tail (bench/dashboard.py, province counted by the page: p95 340-350 → 270-285 ms; the directory's
    # p95 unchanged), and a web portal's many concurrent requests already use every core.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", "-c jit=off -c max_parallel_workers_per_gather=0"
    )
    DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ---------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # A miss, not an error page, while Redis is away; short timeouts bound the wait (reliability.md C5).
            "BACKEND": "portal.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "srdi",
            "TIMEOUT": 300,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "srdi"}}
    # Embedded default: no broker, tasks run in-process when they are enqueued.
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
# A pool child whose memory passes this (in KiB) is replaced after its task: a PDF render fed something huge
# cannot keep the memory it took (reliability.md F7: WeasyPrint runs with time and memory limits).
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=600 * 1024)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Longer than any countdown or retry delay we use (retry_backoff_max 600 s) plus the longest run (time limit
# 600 s), so Redis never redelivers a task still waiting or running; the same value for results (reliability.md
# C3). The connect timeout bounds how long a producer waits on an unreachable broker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 5
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A producer (a web request, after its commit) that cannot reach the broker gets an error within about 5 s,
# not a silent loss and not a hang: three tries, 0.5 s apart (reliability.md C5).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
# On a broker connection loss (a Redis restart) a running acks_late task cannot be acknowledged any more and
# runs again later whatever this says. Letting it finish is safer than killing it half-way: the rerun finds the
# work done (C1), while a task killed between its claim and its effect (an email claimed, not yet sent) would
# lose that effect. Set explicitly: Celery 6 changes the default to True.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Tasks write business rows and nothing reads their results. With results on, every .delay() of a web process
# subscribes to a Redis pub/sub channel, and with Redis down that retries for ~20 s and then leaves the
# process's result consumer unusable ("the Celery application must be restarted").
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 86400

# --- Auth ------------------------------------------------------------------------
AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username or address before any password is checked (reliability.md A4).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    # 等保 level-3 practice: three of four character classes (reliability.md A2, §2 evaluator practice).
    {"NAME": "portal.auth.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    # ASVS 2.1.2/2.1.3: longer than 128 is refused, never truncated (reliability.md A2).
    {"NAME": "portal.auth.passwords.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "platform_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
ANONYMOUS_USER_NAME = None  # guardian: no anonymous object permissions
GUARDIAN_RAISE_403 = False

# Sessions end after 30 minutes of inactivity (reliability.md A5).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=1800)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# ...and 12 hours after sign-in however active (ASVS 3.3.2 L2; reliability.md A5): portal.auth.sessions.
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 3600)

# Login-failure lockout (reliability.md A4), django-axes. 5 failures -> 30 minutes, as in the Aliyun 等保
# mapping quoted in reliability.md §2 [S8]. Counted per username AND, separately, per address, so that
# rotating addresses does not save a guessed account and rotating usernames does not save an address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The lock lasts 30 minutes from the failure that reached the limit: attempts while locked are refused without
# a password check and do not prolong it (a person retrying is not punished; a guesser learns nothing).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The lockout page (zh-hans by default) and the API's error format, the same whether the account exists.
AXES_LOCKOUT_CALLABLE = "portal.auth.lockout.lockout_response"
# Usernames are case-insensitive (reliability.md A1): "Zhang" and "zhang" share one failure count.
AXES_USERNAME_CALLABLE = "portal.auth.lockout.axes_username"
# REMOTE_ADDR only, like portal.audit.client_ip: X-Forwarded-For is forgeable unless a proxy rewrites it.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
AXES_VERBOSE = False
# axes stores the failed request's form data with these masked (the password always is): the one-time codes
# too (reliability.md L3).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token", "otp"]

# Second factor (reliability.md A9): TOTP (django-otp) for provincial reviewers and approvers, funding
# officers, tenant administrators and staff (portal.auth.policy).
OTP_TOTP_ISSUER = "SRDI"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a device's key or QR code

# --- i18n ------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: downloads go through authorised views

# --- Email -----------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SRDI Portal <noreply@srdi.example.cn>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)  # sender of error reports to ADMINS

# --- Security headers ------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# reliability.md D3: no inline script or style anywhere the browser is served (templates use static files,
# data-attributes and classes). A script nonce is only emitted on a response whose template reads
# request.csp_nonce: the Swagger UI page (templates/drf_spectacular/swagger_ui.html) and nothing else.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}
# security.W021 (SECURE_HSTS_PRELOAD off) is the one deploy check silenced (reliability.md D1): entering the
# browsers' preload list binds every subdomain of the registrable domain (often a government's whole zone) for
# months, which is that domain owner's decision (SECURE_HSTS_PRELOAD=true), not this application's default.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # reliability.md A8 (ASVS 3.4.4): the __Host- prefix makes the browser refuse these cookies unless they are
    # Secure, on path "/" and without a Domain, so no sibling subdomain can set or shadow them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST framework --------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
    # reliability.md V7: portal.security.RateLimitMiddleware applies these by URL name (the token exchange, every
    # `*_export`), per signed-in user or, anonymously, per client address.
    "DEFAULT_THROTTLE_RATES": {
        "auth_token": env.str("THROTTLE_AUTH_TOKEN", default="20/min"),
        "export": env.str("THROTTLE_EXPORT", default="30/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SRDI Portal API",
    "DESCRIPTION": "专精特新中小企业服务平台 API. Tenant-scoped endpoints live under /api/v1/<tenant>/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # every operation documents the API's error responses (401, 403, 404, 400): schemathesis checks them
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.schema.document_error_responses",
    ],
}

# --- Logging ---------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # The request's X-Request-ID (reliability.md L2): a log line and its audit rows share it.
        "request": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    # reliability.md L3: mobile, ID and bank account numbers are masked before any handler writes a line.
    "filters": {
        "personal_data": {"()": "portal.masking.PersonalDataFilter"},
        "request_id": {"()": "portal.audit_middleware.RequestIdFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "request",
            "filters": ["personal_data", "request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint and fontTools log every render step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # In-process tasks (no REDIS_URL) would log a line per task into the runserver console; a worker
        # keeps logging them.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
    },
}
ADMINS = [tuple(a.split(":", 1)) for a in env.list("ADMINS", default=[]) if ":" in a]

# --- Portal ----------------------------------------------------------------------
PORTAL_NAME = _("SRDI SME certification portal")
# The public address of the portal: certificates' QR codes and e-mails link to it.
# Unset: https://<the first concrete ALLOWED_HOSTS entry> (http://127.0.0.1:8000 with DEBUG on).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="")
DEFAULT_NOTICE_DAYS = 5
# Audit events older than this are purged daily (portal.audit.audit_purge). 网络安全法 §21 asks that
# network logs be kept at least six months: fewer than 183 days is refused (reliability.md L6).
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
if AUDIT_RETENTION_DAYS < 183:
    raise ImproperlyConfigured(
        f"AUDIT_RETENTION_DAYS={AUDIT_RETENTION_DAYS}: audit events must be kept at least 183 days "
        "(网络安全法 §21, six months)."
    )

# --- Documents: malware scanning and upload caps (enterprises.scanning, enterprises.documents) ---
# Uploads stay unservable until a scanner passes them (reliability.md F6). MALWARE_SCANNER is "clamd"
# (a ClamAV daemon on CLAMD_SOCKET, or CLAMD_HOST:CLAMD_PORT) or "eicar-only", which recognises only the
# EICAR test string and protects against nothing: it is the default only with DEBUG on.
CLAMD_SOCKET = env.str("CLAMD_SOCKET", default="")
CLAMD_HOST = env.str("CLAMD_HOST", default="")
CLAMD_PORT = env.int("CLAMD_PORT", default=3310)
CLAMD_TIMEOUT = env.float("CLAMD_TIMEOUT", default=60.0)
MALWARE_SCANNER = env.str("MALWARE_SCANNER", default="")
if not MALWARE_SCANNER:
    if CLAMD_SOCKET or CLAMD_HOST:
        MALWARE_SCANNER = "clamd"
    elif DEBUG:
        MALWARE_SCANNER = "eicar-only"
    else:
        raise ImproperlyConfigured(
            "No malware scanner is configured. Set CLAMD_SOCKET (a clamd unix socket) or CLAMD_HOST and "
            "CLAMD_PORT (clamd over TCP); MALWARE_SCANNER=eicar-only turns scanning off on purpose "
            "(development only: it detects nothing but the EICAR test file)."
        )
if MALWARE_SCANNER not in {"clamd", "eicar-only"}:
    raise ImproperlyConfigured(f"MALWARE_SCANNER must be 'clamd' or 'eicar-only', not {MALWARE_SCANNER!r}.")
if MALWARE_SCANNER == "clamd" and not (CLAMD_SOCKET or CLAMD_HOST):
    raise ImproperlyConfigured("MALWARE_SCANNER=clamd needs CLAMD_SOCKET or CLAMD_HOST (and CLAMD_PORT).")
# Django has no setting that caps an uploaded file's size (reliability.md §5): these are ours, enforced
# by the upload view while the body streams in and again by enterprises.documents.document_upload.
# The reverse proxy's body limit (e.g. nginx client_max_body_size) should sit just above DOCUMENT_MAX_BYTES.
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
ENTERPRISE_DOCUMENTS_MAX_BYTES = env.int("ENTERPRISE_DOCUMENTS_MAX_BYTES", default=200 * 1024 * 1024)
# --- end of documents block ---
