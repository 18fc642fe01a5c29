# The production image: web (gunicorn), Celery worker and beat all run from it.
FROM python:3.13-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORTAL_ENV=production
WORKDIR /app
COPY pyproject.toml README.md ./
COPY portal portal
COPY grid grid
COPY cases cases
COPY residents residents
COPY volunteers volunteers
COPY dashboards dashboards
COPY hub hub
RUN pip install --no-cache-dir .
COPY . .
# collectstatic needs keys to import production settings (long and varied enough to pass
# portal/keys.py); these exist only in this RUN step, the real ones come at run time.
RUN DJANGO_SECRET_KEY=build-only-collectstatic-key \
    FIELD_ENCRYPTION_SALTS=build-only-salt-0123456789-abcdefghijkl \
    RESIDENT_INDEX_KEY=build-only-index-0123456789-abcdefghijkl \
    python manage.py collectstatic --noinput -v0
# The app's own modules compiled once here: PYTHONDONTWRITEBYTECODE (and a read-only /app for the
# portal user) would otherwise make every worker compile ~300 modules at start (issue #24: a
# worker's set-up 0.68 s -> 0.42 s, ~1 MB less per worker). scripts/check-production runs the same.
RUN python -m compileall -q -j 0 -x '(^|/)(tests|bench|\.venv)/' .
RUN useradd --system --home /app portal && mkdir -p /app/var && chown portal /app/var
USER portal
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
