# SRDI Portal image: gunicorn serving portal.wsgi; the same image runs migrate, the Celery worker and beat.
# Build: docker build -t srdi-portal .     Run: see docker-compose.yml (SECRET_KEY is required at run time).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint (PDF certificates, later) will need system libraries here: libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk.

WORKDIR /app

# Pinned runtime dependencies only (requirements-dev.txt is for tests and tooling).
COPY requirements.txt .
RUN pip install -r requirements.txt

# The project, file by file rather than `COPY .`, so that a developer's .venv, db/ (SQLite with demo
# accounts), .env and tests never enter the image. A new top-level app must be added here; the build
# fails loudly (INSTALLED_APPS) if it is missing.
COPY manage.py ./
COPY portal/ portal/
COPY enterprises/ enterprises/
COPY certification/ certification/
COPY funding/ funding/
COPY templates/ templates/
COPY static/ static/
COPY locale/ locale/

# Settings refuse to load without SECRET_KEY when DEBUG is off. The build steps get a throwaway key
# through a build ARG that is used only in this RUN and never becomes part of the runtime ENV.
ARG BUILD_SECRET_KEY=build-only-not-a-secret
RUN SECRET_KEY="$BUILD_SECRET_KEY" MALWARE_SCANNER=eicar-only DATABASE_URL="sqlite:////tmp/build.sqlite3" python manage.py compiletranslations -v0 \
 && SECRET_KEY="$BUILD_SECRET_KEY" MALWARE_SCANNER=eicar-only DATABASE_URL="sqlite:////tmp/build.sqlite3" python manage.py collectstatic --noinput -v0 \
 && rm -rf /tmp/build.sqlite3*

# Non-root at run time. Its home is writable (gunicorn's control socket lives there). media/ and db/
# are the only writable directories under /app: uploads, and SQLite if no DATABASE_URL is given.
RUN useradd --create-home --uid 1000 --user-group app \
 && mkdir -p /app/media /app/db \
 && chown app:app /app/media /app/db
ENV MEDIA_ROOT=/app/media
USER app

EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
