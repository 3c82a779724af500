#!/usr/bin/env bash
# Make sure the local PostgreSQL and MariaDB the tests use are running (start them if not).
set -uo pipefail

wait_for() {  # wait_for NAME COMMAND...: poll up to 30 s
  local name=$1; shift
  for _ in $(seq 1 60); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "services: $name did not come up" >&2; return 1
}

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432 || exit 1
  else
    echo "services: PostgreSQL is not running and not installed here" >&2
  fi
fi

if ! mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  if [ -x /usr/sbin/mariadbd ]; then
    echo "services: starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    wait_for MariaDB mariadb-admin -h 127.0.0.1 -u root ping || exit 1
  else
    echo "services: MariaDB is not running and not installed here" >&2
  fi
fi
exit 0
