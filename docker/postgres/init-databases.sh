#!/bin/sh
# Runs once, when the PostgreSQL volume is empty: one database per service, as `npm start` and
# the Helm charts have it. The services apply their own migrations.
set -eu
for db in flotilla_users flotilla_orders flotilla_payments; do
  echo "creating database ${db}"
  psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --dbname postgres \
    -c "CREATE DATABASE ${db} OWNER \"${POSTGRES_USER}\""
done
