# Production image: gunicorn serving the service; the same image runs the Celery
# worker and beat (see docker-compose.yml).
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN useradd --system --uid 10001 --home /app app \
    && mkdir -p /app/var \
    && ENVIRONMENT=development SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
       OIDC_RSA_PRIVATE_KEY="$(python -c 'from core.signing_keys import new_rsa_private_key as k; print(k())')" \
       python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R app /app/var
USER app

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health/live', timeout=4).status == 200 else 1)"

CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn config.wsgi --bind 0.0.0.0:8000 --workers ${WEB_WORKERS:-4} --threads ${WEB_THREADS:-4} --access-logfile -"]
