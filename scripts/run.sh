#!/bin/sh
# Started by `make run` with DATABASE_URL set (embedded PostgreSQL unless given).
# Migrations run as the owner (DATABASE_OWNER_URL, the `owner` alias); the app as DATABASE_URL.
set -e
# Ctrl-C is devenv.py's to handle (it stops every process it started, then PostgreSQL): a
# management command interrupted here would only print a traceback. Ignored signals are
# inherited; honcho sets its own handler.
trap '' INT
python manage.py migrate --database owner --noinput
if [ -n "${DATABASE_OWNER_URL:-}" ] && [ "$DATABASE_OWNER_URL" != "$DATABASE_URL" ]; then
    python manage.py setup_database_roles
fi
python manage.py seed_demo
python manage.py install_schedules
echo
echo "il2-ecrf is starting on http://127.0.0.1:${WEB_PORT:-8000}/  (Ctrl-C stops everything)"
echo
exec env -u DATABASE_OWNER_URL honcho start
