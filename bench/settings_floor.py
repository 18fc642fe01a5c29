"""The memory floor of a web worker (bench/speed_bench.py's RSS row, issue #24).

A Django project with nothing of the portal: the client's fixed packages a portal worker
cannot do without (Django with auth, sessions and the admin's contrib apps, psycopg on the same
database, the Redis cache) and the field-encryption library the residents' models need
(`encrypted_fields.fields`, which imports `cryptography` and maps its ~7 MB Rust library; until
2026-12-06 the floor imported only the package, which imports neither), serving one view that reads
the session, the cache and the database. A portal worker's RSS beside this one's is what the portal
itself adds.
"""

import os

import dj_database_url

SECRET_KEY = "bench-floor-not-secret-0123456789abcdefghij"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
LANGUAGE_CODE = "zh-hans"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "bench.urls_floor"
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                      "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")}}
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                 "django.contrib.auth.context_processors.auth",
                                                 "django.contrib.messages.context_processors.messages"]}}]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "root": {"handlers": ["console"], "level": "WARNING"}}
