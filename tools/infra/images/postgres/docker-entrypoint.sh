#!/bin/bash
# The part of the official postgres entrypoint that Flotilla uses: as root, own the data directory
# and drop to `postgres`; on an empty data directory, initdb with POSTGRES_USER/POSTGRES_PASSWORD,
# create POSTGRES_DB, run /docker-entrypoint-initdb.d/*.sh and *.sql, then start the server.
set -euo pipefail
if [ "${1:0:1}" = - ]; then set -- postgres "$@"; fi
if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  export POSTGRES_USER=${POSTGRES_USER:-postgres}
  POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
  auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    echo 'error: set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)' >&2
    exit 1
  fi
  pwfile=()
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pwfile
    pwfile=(--pwfile=/tmp/pwfile)
  fi
  initdb --username="$POSTGRES_USER" "${pwfile[@]}" --auth-local=trust --auth-host="$auth" >/dev/null
  rm -f /tmp/pwfile
  printf "listen_addresses = '*'\nunix_socket_directories = '/var/run/postgresql'\n" >>"$PGDATA/postgresql.conf"
  echo "host all all all $auth" >>"$PGDATA/pg_hba.conf"
  pg_ctl -o "-c listen_addresses=''" -w start
  export PGUSER=$POSTGRES_USER
  if [ "$POSTGRES_DB" != postgres ]; then
    psql -q -v ON_ERROR_STOP=1 --dbname postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sh)
        # shellcheck source=/dev/null # the init scripts are mounted at run time
        if [ -x "$f" ]; then "$f"; else . "$f"; fi
        ;;
      *.sql) psql -q -v ON_ERROR_STOP=1 --dbname "$POSTGRES_DB" -f "$f" ;;
    esac
  done
  pg_ctl -m fast -w stop
  echo 'PostgreSQL init process complete; ready for start up.'
fi
exec "$@"
