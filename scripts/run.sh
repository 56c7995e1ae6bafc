#!/bin/sh
# Started by `make run` with DATABASE_URL set (embedded PostgreSQL unless given).
set -e
python manage.py migrate --noinput
python manage.py seed_demo
python manage.py install_schedules
echo
echo "il2-ecrf is starting on http://127.0.0.1:${WEB_PORT:-8000}/  (Ctrl-C stops everything)"
echo
exec honcho start
