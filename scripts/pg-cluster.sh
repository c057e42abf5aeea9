#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: a fresh cluster in a temporary directory, trust authentication, on a
# free port of 127.0.0.1 only, its socket in that directory. Installs Debian's `postgresql` when no initdb/pg_ctl is
# found. As root, the cluster runs as the `postgres` user (initdb refuses root).
#
#   eval "$(scripts/pg-cluster.sh start)"    # exports DOELPOORT_TEST_PG_URL and PG_CLUSTER_DIR
#   npx vitest run test/pg-*.test.ts
#   scripts/pg-cluster.sh stop               # stops it and removes the directory ($PG_CLUSTER_DIR, or give it)
#
# Only the two `export` lines go to stdout; everything else goes to stderr.
set -euo pipefail

MARKER=.doelpoort-pg-cluster

log() { printf 'pg-cluster: %s\n' "$*" >&2; }

bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

install_postgresql() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  log "installing Debian's postgresql"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
  # The package creates and starts a cluster of its own; the tests do not use it.
}

# Runs a command as the cluster's owner: the postgres user when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local bin dir port attempt
  bin="$(bindir)" || { install_postgresql; bin="$(bindir)"; } || { log "no initdb/pg_ctl after installing postgresql"; exit 1; }
  dir="$(mktemp -d "${TMPDIR:-/tmp}/doelpoort-pg.XXXXXX")"
  touch "$dir/$MARKER"
  # Until the server is up, a failure removes what was made.
  trap 'as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"' ERR
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-instructions >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; false; }
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    port_free "$port" || continue
    # A throwaway server for tests: no test survives a crash of the server itself, so it need not fsync (the tests'
    # durability is doelpoort's: commit before answer, a killed instance or connection, never a lost server).
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c full_page_writes=off" start >&2; then
      trap - ERR
      log "PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') in $dir on 127.0.0.1:$port"
      echo "export DOELPOORT_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres"
      echo "export PG_CLUSTER_DIR=$dir"
      return 0
    fi
    log "could not start on port $port (attempt $attempt)"
  done
  cat "$dir/server.log" >&2 || true
  false
}

stop() {
  local dir="${1:-${PG_CLUSTER_DIR:-}}" bin
  if [ -z "$dir" ]; then log "stop: no directory given and PG_CLUSTER_DIR is not set"; exit 2; fi
  # Removes only a directory this script made.
  if [ ! -f "$dir/$MARKER" ]; then log "stop: $dir is not a cluster made by this script"; exit 2; fi
  bin="$(bindir)" || true
  if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >&2 || true
  fi
  rm -rf "$dir"
  log "stopped and removed $dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *)
    echo "usage: $0 start | stop [dir]" >&2
    exit 2
    ;;
esac
