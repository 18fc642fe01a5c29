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
# collectstatic needs a key to import settings; the real one comes at run time.
RUN DJANGO_SECRET_KEY=build-only-collectstatic-key python manage.py collectstatic --noinput -v0
RUN useradd --system --home /app portal && mkdir -p /app/var && chown portal /app/var
USER portal
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
