FROM python:3.13-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
COPY searchsite searchsite
COPY catalog catalog
RUN pip install --no-cache-dir . gunicorn
COPY manage.py ./
COPY templates templates
COPY static static
USER nobody
EXPOSE 8000
CMD ["gunicorn", "searchsite.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
