"""One settings module for every environment, driven by environment variables.

Local defaults need nothing installed: a SQLite file under var/ and Celery's
filesystem transport (an embedded broker that works across processes and still
runs the beat schedule). Production sets PORTAL_ENV=production, DATABASE_URL
(PostgreSQL) and REDIS_URL; nothing else changes shape between the two.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from portal import keys
from portal import pooler as _pooler

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))


def env(name, default=None):
    value = os.environ.get(name, "")
    return value if value != "" else default


def env_bool(name, default=False):
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    value = env(name)
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


PORTAL_ENV = env("PORTAL_ENV", "development")
PRODUCTION = PORTAL_ENV == "production"

DEBUG = env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when PORTAL_ENV=production.")
    SECRET_KEY = "dev-only-not-secret-" + "x" * 40
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # The admin with the portal's site (portal/admin_site.py): staff index, system section for administrators.
    "portal.admin_site.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    # Two-step sign-in (grid/twofactor.py); before grid, whose admin replaces the device admin.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "mptt",
    "django_filters",
    "portal.workcalendar",
    "grid",
    "grid.privacy",
    "cases",
    "cases.open311",
    "cases.hotline",
    "residents",
    "volunteers",
    "risks",
    "residents.participation",
    "residents.party",
    # The top layer: pages and reactions that compose the domain apps above.
    "dashboards",
    "hub",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks the dashboards', screen's, exports' and boards' reads for the replica (if any).
    "portal.replica.ReplicaMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Signs out a sign-in unused past its role's limit, then asks for the second factor.
    "grid.sessions.SessionLifetimeMiddleware",
    "grid.twofactor.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
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
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "grid.context_processors.portal",
                "residents.context_processors.residents_reach",
                "portal.replica.context",
                "cases.context_processors.nav_counts",
            ],
            "builtins": ["portal.template_text"],
        },
    },
]

# --- Database -----------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60" if PRODUCTION else "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the demo's web server and Celery worker read while the other
    # writes; IMMEDIATE takes the write lock up front instead of failing later.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
# A streaming replica for the read-heavy pages (portal/replica.py): optional.
if env("DATABASE_REPLICA_URL", ""):
    DATABASES["replica"] = dj_database_url.parse(
        env("DATABASE_REPLICA_URL"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60" if PRODUCTION else "0")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["portal.replica.ReplicaRouter"]
# PgBouncer in transaction mode in front of PostgreSQL (portal/pooler.py, README "Connection pooling"):
# DATABASE_POOLER=pgbouncer; DATABASE_POOLER_PREPARED_STATEMENTS=1 when it is >= 1.21 with
# max_prepared_statements > 0.
DATABASE_POOLER = env("DATABASE_POOLER", "")
DATABASE_POOLER_PREPARED_STATEMENTS = env_bool("DATABASE_POOLER_PREPARED_STATEMENTS", False)
_pooler.configure(DATABASES, DATABASE_POOLER, prepared_statements=DATABASE_POOLER_PREPARED_STATEMENTS)
# Views whose reads go to the replica (fnmatch patterns of URL names).
REPLICA_VIEWS = env_list("REPLICA_VIEWS", ["cases:dashboard*", "cases:command_screen*", "cases:export",
                                           "residents:board", "residents:community_boards", "participation:board"])
REPLICA_STICKY_SECONDS = int(env("REPLICA_STICKY_SECONDS", "30"))
REPLICA_MAX_LAG_SECONDS = float(env("REPLICA_MAX_LAG_SECONDS", "30"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "grid.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# --- Sign-in lockout (django-axes) ----------------------------------------------
# Every sign-in form (the portal's and the admin's) goes through authenticate(),
# where axes counts failures in the database. Five failures lock the account and,
# separately, the address for 15 minutes; a success clears the count. Administrators
# unlock early by deleting the attempt in the admin (Axes › Access attempts).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: by account, and by address
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# How many reverse proxies of our own stand in front of the portal (the compose TLS proxy: 1).
# The client address for rate limits and lockouts is then read from X-Forwarded-For
# (portal/client_address.py); 0 trusts nothing but the connection's address.
TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "portal.client_address.client_address"
LOGOUT_REDIRECT_URL = "login"

# --- Session lifetime by role, two-step sign-in (grid/sessions.py, grid/twofactor.py) ---
# A sign-in unused this many minutes ends (a user with several posts gets the shortest);
# roles not listed keep SESSION_COOKIE_AGE (Django's two weeks). Shorter for those who
# can reveal or export residents' personal data. SESSION_IDLE_MINUTES overrides entries:
# "community_staff=60,grid_worker=120".
SESSION_IDLE_MINUTES_BY_ROLE = {
    "superuser": 120,
    "community_staff": 120,  # reveals ID numbers and phones
    "street_staff": 240,  # unmasked exports
    "grid_worker": 240,  # reveals phones, in the field on a phone
    "district_official": 480,
} | {
    role.strip(): int(minutes)
    for role, _sep, minutes in (item.partition("=") for item in env_list("SESSION_IDLE_MINUTES", []))
}
# The time of use is written to the session at most this often (seconds).
SESSION_ACTIVITY_RESOLUTION = 60
# TOTP (django-otp) for superusers and the posts that may reveal ID numbers
# (residents.selectors.REVEAL_ROLES): required in production, optional in the demo.
OTP_REQUIRED = env_bool("PORTAL_REQUIRE_OTP", PRODUCTION)
# Residents' ID numbers: community staff (residents.selectors.REVEAL_ROLES). Mediation parties' ID
# numbers: the file's mediators and the managing staff over the place (cases.mediation_selectors.may_reveal).
OTP_REQUIRED_ROLES = ("community_staff", "street_staff", "district_official",
                      "peoples_mediator", "justice_staff", "community_lawyer")
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "网格化社会治理门户")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time -------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- Static and media --------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production the demo serves assets straight from static/ (no collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# --- Security ----------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("DJANGO_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Personal data (residents/) ----------------------------------------------
# ID numbers and phones are encrypted with django-fernet-encrypted-fields: Fernet
# keys derived from SECRET_KEY (and SECRET_KEY_FALLBACKS) with each salt below.
# Rotate by putting a new salt first (FIELD_ENCRYPTION_SALTS="new,old"), then
# `manage.py reencrypt_residents`; drop the old salt after it finishes.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS", [])
SALT_KEY = env_list("FIELD_ENCRYPTION_SALTS", [] if PRODUCTION else ["dev-only-field-salt"])
# The blind index key finds a resident by ID number or phone without decrypting;
# it must outlive key rotation (changing it means `manage.py reindex_residents`).
RESIDENT_INDEX_KEY = env("RESIDENT_INDEX_KEY", "" if PRODUCTION else "dev-only-resident-index-key")
if PRODUCTION and not (SALT_KEY and RESIDENT_INDEX_KEY):
    raise ImproperlyConfigured("FIELD_ENCRYPTION_SALTS and RESIDENT_INDEX_KEY must be set when PORTAL_ENV=production.")
if PRODUCTION and (_weak := keys.weak_key_messages(salts=SALT_KEY, index_key=RESIDENT_INDEX_KEY)):
    raise ImproperlyConfigured("Weak personal-data keys with PORTAL_ENV=production: " + " | ".join(_weak))
# Retention (PIPL art. 19 and 47; grid/privacy): reporters' and orderers' names and phones
# are anonymised this many days after their matter or order closed, residents who moved
# out or died this many days after they left. The figures (dates, categories, ratings) stay.
PERSONAL_DATA_RETENTION_DAYS = int(env("PERSONAL_DATA_RETENTION_DAYS", "365"))
RESIDENT_RETENTION_DAYS_AFTER_LEAVING = int(env("RESIDENT_RETENTION_DAYS_AFTER_LEAVING", "1095"))
if PERSONAL_DATA_RETENTION_DAYS < 1 or RESIDENT_RETENTION_DAYS_AFTER_LEAVING < 1:
    raise ImproperlyConfigured("Retention periods are whole days, at least 1.")
# Rows above this many go to a Celery job with a progress bar instead of the request.
RESIDENT_IMPORT_INLINE_ROWS = int(env("RESIDENT_IMPORT_INLINE_ROWS", "2000"))
RESIDENT_IMPORT_MAX_BYTES = int(env("RESIDENT_IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))
# Service numbers printed on every building's notice board (公示牌).
NOTICE_BOARD_NUMBERS = {
    "water": env("NOTICE_WATER_PHONE", "96116"),
    "power": env("NOTICE_POWER_PHONE", "95598"),
    "gas": env("NOTICE_GAS_PHONE", "96777"),
    "hotline": env("NOTICE_HOTLINE_PHONE", "12345"),
}

# --- Cache -------------------------------------------------------------------
# Nothing a resident does depends on the cache (issue #25): rate limits fail open
# and the calendar keeps its copy when Redis is down (portal/ratelimit.py,
# portal/degraded.py). The short socket timeouts bound what a request pays to a
# Redis that stopped answering without closing the connection.
REDIS_URL = env("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
         "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Celery ------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_BROKER_DIR = VAR_DIR / "celery"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A message taken but not acknowledged goes back to the queue after this long
        # (the worker died mid-task). Longer than the longest task (an import of
        # 100,000 residents takes about a minute; the nightly rollup rebuild minutes),
        # or a slow task would be started twice. Every periodic job is a sweep over the
        # database, so a message lost with a worker costs at most one beat interval.
        "visibility_timeout": 2 * 3600,
        # A Redis that vanished without closing the TCP connection (failover, NAT) must
        # not hang a publish or the worker's BRPOP for ever.
        "socket_connect_timeout": 5,
        "socket_timeout": 5,
        "socket_keepalive": True,
        # PING idle connections before use and drop the dead ones; the worker's BRPOP
        # connection is re-made once its reply is overdue by this much.
        "health_check_interval": 10,
        # A publish from a request or a task waits at most this long for the broker
        # (kombu's connect retries, not the worker's: the worker retries for ever below).
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.5,
        "interval_max": 1,
    }
# Workers ride out broker outages: reconnect at start and after a loss, for ever,
# not 100 times (the default) and then exit. Supervision (scripts/demo, the
# compose restart policy, systemd) restarts a worker that exits all the same.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = 5
CELERY_BROKER_CHANNEL_ERROR_RETRY = True
# AMQP heartbeats (RabbitMQ), so a dead connection is noticed in about a minute.
CELERY_BROKER_HEARTBEAT = 30
# Publishes from tasks (notifications, points) give up after a few seconds: the
# sweeps find the work in the database anyway. Request paths publish with retry=False.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 3, "interval_start": 0, "interval_step": 1, "interval_max": 2}
# With late acks a task still running when the connection drops is redelivered to
# some worker; cancel this copy instead of running both (every task is idempotent,
# but twice the work is no help in an outage).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Daily runs are written {"hour": …, "minute": …}: portal/celery.py makes them Celery crontabs,
# so that this module (every web process) imports no Celery.
CELERY_BEAT_SCHEDULE = {
    # Escalation and notification delivery are sweeps over the database, not
    # per-case delayed tasks: Redis redelivers long-delayed tasks after the
    # visibility timeout, and a broker outage must not lose a deadline.
    "cases-escalate-overdue": {"task": "cases.tasks.escalate_overdue", "schedule": 60.0},
    # Residents' reports are kept in one insert and registered by a worker; each
    # commit asks for a run, and this catches what a broker outage left waiting.
    "cases-register-intake": {"task": "cases.tasks.register_intake", "schedule": 10.0},
    # 吹哨报到: organisations past their report-in deadline become no-shows.
    "cases-mark-no-shows": {"task": "cases.tasks.mark_no_shows", "schedule": 60.0},
    "cases-deliver-notifications": {"task": "cases.tasks.deliver_pending_notifications", "schedule": 60.0},
    "volunteers-escalate-unclaimed-orders": {"task": "volunteers.tasks.escalate_unclaimed_orders",
                                             "schedule": 60.0},
    "hub-award-closed-cases": {"task": "hub.tasks.award_recent_closed_cases", "schedule": 3600.0},
    "participation-escalate-overdue": {"task": "residents.participation.tasks.escalate_overdue",
                                       "schedule": 300.0},
    "volunteers-verify-ledger-nightly": {"task": "volunteers.tasks.verify_ledger",
                                         "schedule": {"hour": 3, "minute": 37}},
    # The households' points cards: archive last year and reset, once a year (idempotent).
    "volunteers-close-household-points-year": {"task": "volunteers.tasks.close_household_points_year",
                                               "schedule": {"month_of_year": 1, "day_of_month": 1,
                                                            "hour": 0, "minute": 41}},
    "risks-flag-overdue-reviews": {"task": "risks.tasks.flag_overdue_reviews", "schedule": 3600.0},
    # The early-warning rules (预测预警) over the whole city; marks overdue reviews first.
    "risks-sweep-warnings": {"task": "risks.tasks.sweep_warnings", "schedule": 3600.0},
    "dashboards-refresh-rollups": {"task": "dashboards.tasks.refresh_rollups", "schedule": 60.0},
    "dashboards-rebuild-rollups-nightly": {"task": "dashboards.tasks.rebuild_rollups",
                                           "schedule": {"hour": 2, "minute": 47}},
    # Read-only: logs a warning while the next 60 days reach a year without holidays
    # (the admin shows the same as a banner).
    "workcalendar-warn-missing-holidays": {"task": "portal.workcalendar.tasks.warn_missing_holidays",
                                           "schedule": {"hour": 8, "minute": 7}},
    # Retention: anonymise personal data kept past its period (idempotent, in batches).
    "privacy-anonymise-expired-nightly": {"task": "grid.privacy.tasks.anonymise_expired",
                                          "schedule": {"hour": 4, "minute": 23}},
    "grid-verify-trees-nightly": {
        "task": "grid.tasks.verify_trees",
        "schedule": {"hour": 3, "minute": 17},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# A form sent from a page open too long gets the portal's page, not Django's English one.
CSRF_FAILURE_VIEW = "portal.error_pages.csrf_failure"

# The portal's own knobs.
PORTAL_NAME = _("Grid Governance Portal")
GRID_HOUSEHOLD_BAND = (400, 700)
# Uploaded photos: images only, at most this many bytes each.
CASE_PHOTO_MAX_BYTES = int(env("CASE_PHOTO_MAX_BYTES", str(8 * 1024 * 1024)))
# Evidence and signed scans of a mediation file (PDF or photo): scanned agreements run larger than photos.
MEDIATION_FILE_MAX_BYTES = int(env("MEDIATION_FILE_MAX_BYTES", str(10 * 1024 * 1024)))
# 回访 of a mediation agreement's performance, this many working days after it was reached.
MEDIATION_FOLLOW_UP_WORKING_DAYS = int(env("MEDIATION_FOLLOW_UP_WORKING_DAYS", "20"))
# Notification senders (cases/notifications.py). The webhook is a chat-group robot
# (企业微信/钉钉 style) URL; empty disables that sender.
NOTIFY_EMAIL_FROM = env("NOTIFY_EMAIL_FROM", "portal@localhost")
NOTIFY_CHAT_WEBHOOK_URL = env("NOTIFY_CHAT_WEBHOOK_URL", "")
# Providers' sending rules (cases/notifications.py deliver_pending): a 企业微信 group robot takes
# 20 messages a minute; set the mail server's limit for the portal's sender.
NOTIFY_CHAT_PER_MINUTE = int(env("NOTIFY_CHAT_PER_MINUTE", "20"))
NOTIFY_EMAIL_PER_MINUTE = int(env("NOTIFY_EMAIL_PER_MINUTE", "600"))
MAILERS = {
    "default": {
        "BACKEND": env(
            "EMAIL_BACKEND",
            "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION
            else "django.core.mail.backends.console.EmailBackend",
        ),
    }
}
# Cameras and one-click alarms (微天网) authenticate with this shared secret.
ALARM_WEBHOOK_TOKEN = env("ALARM_WEBHOOK_TOKEN", "" if PRODUCTION else "demo-alarm-token")
# Dashboards: an optional map tile server ({z}/{x}/{y} URL template); empty draws the
# grids on a blank map. Its origin is added to the CSP's img-src.
DASHBOARD_TILE_URL = env("DASHBOARD_TILE_URL", "")
DASHBOARD_TILE_ATTRIBUTION = env("DASHBOARD_TILE_ATTRIBUTION", "")
if DASHBOARD_TILE_URL:
    from urllib.parse import urlsplit as _urlsplit

    _tiles = _urlsplit(DASHBOARD_TILE_URL)
    # A {s} subdomain template ({s}.tile.example.org) becomes a wildcard source.
    SECURE_CSP["img-src"].append(f"{_tiles.scheme}://{_tiles.netloc.replace('{s}', '*')}")
# 吹哨报到: minutes a summoned organisation has to report in, urgent or not (Pinggu: 30).
WHISTLE_URGENT_REPORT_IN_MINUTES = int(env("WHISTLE_URGENT_REPORT_IN_MINUTES", "30"))
WHISTLE_REPORT_IN_MINUTES = int(env("WHISTLE_REPORT_IN_MINUTES", "120"))
# 12345: hours after receipt during which a work order may be handed back (退单), unless
# the hotline system sends its own window with the order.
HOTLINE_RETURN_WINDOW_HOURS = int(env("HOTLINE_RETURN_WINDOW_HOURS", "24"))
# Open311 reads without an api_key (GET requests, requests/<id>, tokens, servicerequestupdates):
# off by default. When on, each district still opts in (admin: Open311 → Open311 public reads),
# and only public fields are answered (cases/open311/public.py).
OPEN311_PUBLIC_READS = env_bool("OPEN311_PUBLIC_READS", False)
# Rankings list a place or a worker only above this many valid cases in the period.
DASHBOARD_RANKING_MIN_CASES = int(env("DASHBOARD_RANKING_MIN_CASES", "20"))
# A dashboard page's figures are kept per rollup refresh (dashboards/cache.py) at most this long; 0: off.
DASHBOARD_CACHE_SECONDS = int(env("DASHBOARD_CACHE_SECONDS", "120"))
# 结案率's denominator (dashboards/definitions.py): 应结案数 less 缓办 (deferred, carried-over cases), as
# 按期结案率's is ("按期结案数 / (应结案数 − 缓办数)"), the common rule. Cities that keep 缓办 in 结案率's
# denominator set this to 0.
FIGURES_CLOSURE_EXCLUDES_DEFERRED = env("FIGURES_CLOSURE_EXCLUDES_DEFERRED", "1") not in ("0", "false", "False", "")
