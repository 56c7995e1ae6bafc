FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
RUN pip install --no-cache-dir --no-deps -e . \
 && DEBUG=0 SECRET_KEY=build-only ALLOWED_HOSTS=localhost \
    REMINDER_SITE_URL=http://build.invalid DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --noinput
RUN useradd --create-home ecrf && chown -R ecrf /app
USER ecrf
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
