#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL 15 cluster.
#
#   scripts/pgtest.sh COMMAND [ARGS...]
#
# Creates a fresh cluster in a temp dir (listening only on 127.0.0.1, at a free port, trust
# auth, fsync off, database `sealbook_test`), runs COMMAND with
#
#   SEALBOOK_TEST_DATABASE_URL_PG=postgresql+psycopg://postgres@127.0.0.1:PORT/sealbook_test
#   SEALBOOK_REQUIRE_POSTGRES=1
#
# exported, then stops the cluster and removes the temp dir whatever happens. Exits with
# COMMAND's status. Silent on success; prints the server log when the cluster misbehaves.
#
# initdb refuses to run as root, so as root the cluster belongs to `postgres` (or `nobody`).
# Server binaries come from $PG_BIN (default /usr/lib/postgresql/15/bin); if they are missing
# there, Debian's postgresql-15 is installed with apt. $PGTEST_USER overrides that user;
# $PGTEST_TMPDIR (default /tmp) must be traversable by it.
set -euo pipefail

readonly DEFAULT_PG_BIN=/usr/lib/postgresql/15/bin
PG_BIN=${PG_BIN:-$DEFAULT_PG_BIN}
readonly DB_NAME=sealbook_test
readonly DB_SUPERUSER=postgres

WORK=""
DATA=""
LOG=""
PG_OS_USER=""

say() { printf 'pgtest: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

dump() {  # print files to stderr, loudly
    local f
    for f in "$@"; do
        if [[ -s $f ]]; then
            printf '\n===== %s =====\n' "${f##*/}" >&2
            cat -- "$f" >&2
        fi
    done
}

as_pg() {  # run a command as the cluster's owner, from a directory it can read
    if [[ -z $PG_OS_USER ]]; then
        (cd "$WORK" && "$@")
    elif command -v runuser >/dev/null 2>&1; then
        (cd "$WORK" && runuser -u "$PG_OS_USER" -- "$@")
    else
        (cd "$WORK" && su -s /bin/sh "$PG_OS_USER" -c "$(printf '%q ' "$@")")
    fi
}

# shellcheck disable=SC2317  # runs from a trap
cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM HUP
    if [[ -n $DATA && -f $DATA/postmaster.pid ]]; then
        if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >/dev/null 2>&1; then
            local pid
            pid=$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null)
            # Only if that pid is still our postmaster (pids get reused).
            if [[ $pid =~ ^[0-9]+$ ]] \
                    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DATA"; then
                say "pg_ctl stop failed; killing postmaster $pid"
                kill -KILL "$pid" 2>/dev/null
            fi
        fi
    fi
    if [[ -n $WORK ]]; then
        rm -rf -- "$WORK"
    fi
    exit "$rc"
}
CHILD=""
# shellcheck disable=SC2317  # runs from a trap
on_signal() {  # $1: signal name, $2: exit status; stop COMMAND, then cleanup runs on exit
    set +e
    if [[ -n $CHILD ]]; then
        if [[ $1 == INT ]]; then
            # A terminal's Ctrl-C has reached COMMAND too: give it time to wind down first.
            local _
            for _ in {1..50}; do
                kill -0 "$CHILD" 2>/dev/null || break
                sleep 0.1
            done
        fi
        kill -s "$1" "$CHILD" 2>/dev/null
        wait "$CHILD" 2>/dev/null
    fi
    exit "$2"
}
trap cleanup EXIT
trap 'on_signal HUP 129' HUP
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

ensure_server_binaries() {
    if [[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl && -x $PG_BIN/postgres ]]; then
        return 0
    fi
    [[ $PG_BIN == "$DEFAULT_PG_BIN" ]] || die "no PostgreSQL server binaries in PG_BIN=$PG_BIN"
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 \
            || die "$PG_BIN/initdb is missing; install Debian package postgresql-15"
        sudo=(sudo -n)
    fi
    say "installing Debian package postgresql-15 (apt-get)"
    local apt_log=$WORK/apt.log
    if ! { "${sudo[@]}" apt-get update -q \
            && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -q --no-install-recommends postgresql-15; \
         } </dev/null >"$apt_log" 2>&1; then
        dump "$apt_log"
        die "could not install postgresql-15"
    fi
    [[ -x $PG_BIN/initdb ]] || die "postgresql-15 installed but $PG_BIN/initdb is still missing"
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

init_cluster() {
    if [[ $EUID -eq 0 ]]; then
        if [[ -n ${PGTEST_USER:-} ]]; then
            PG_OS_USER=$PGTEST_USER
        elif id -u postgres >/dev/null 2>&1; then
            PG_OS_USER=postgres
        else
            PG_OS_USER=nobody
        fi
        chown -R "$PG_OS_USER:" "$WORK"
    fi
    DATA=$WORK/data
    LOG=$WORK/server.log
    as_pg mkdir -m 700 "$WORK/sock"
    if ! as_pg "$PG_BIN/initdb" -D "$DATA" -U "$DB_SUPERUSER" --auth=trust \
            --encoding=UTF8 --locale=C --no-sync >"$WORK/initdb.log" 2>&1; then
        dump "$WORK/initdb.log"
        die "initdb failed (as ${PG_OS_USER:-$(id -un)})"
    fi
    # Appended settings override initdb's defaults. Throwaway data: durability is off.
    as_pg tee -a "$DATA/postgresql.conf" >/dev/null <<EOF

# --- scripts/pgtest.sh ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK/sock'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
max_parallel_workers_per_gather = 0
timezone = 'UTC'
log_timezone = 'UTC'
EOF
}

start_server() {
    local attempt port
    for attempt in 1 2 3; do
        port=$(free_port)
        if as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 -o "-p $port" start \
                >"$WORK/pg_ctl.log" 2>&1; then
            PORT=$port
            return 0
        fi
        # Another process took the port between our probe and the server's bind: retry.
        if ((attempt < 3)) && grep -q 'could not bind' "$LOG" 2>/dev/null \
                && [[ ! -f $DATA/postmaster.pid ]]; then
            continue
        fi
        break
    done
    dump "$WORK/pg_ctl.log" "$LOG"
    die "PostgreSQL did not start"
}

[[ $# -ge 1 ]] || die "usage: $0 COMMAND [ARGS...]"
command -v python3 >/dev/null 2>&1 || die "python3 is required"

WORK=$(mktemp -d "${PGTEST_TMPDIR:-/tmp}/sealbook-pg.XXXXXX")
ensure_server_binaries
init_cluster
PORT=""
start_server

if ! "$PG_BIN/createdb" -w -h 127.0.0.1 -p "$PORT" -U "$DB_SUPERUSER" "$DB_NAME" \
        >"$WORK/createdb.log" 2>&1; then
    dump "$WORK/createdb.log" "$LOG"
    die "could not create database $DB_NAME"
fi

export SEALBOOK_TEST_DATABASE_URL_PG="postgresql+psycopg://$DB_SUPERUSER@127.0.0.1:$PORT/$DB_NAME"
export SEALBOOK_REQUIRE_POSTGRES=1

# In the background, so that a signal to this script is acted on at once (bash defers traps
# while a foreground child runs); with stdin kept and Ctrl-C and Ctrl-\ restored for it.
( trap - INT QUIT; exec "$@" ) <&0 &
CHILD=$!
rc=0
wait "$CHILD" || rc=$?
CHILD=""

if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U "$DB_SUPERUSER" -t 10; then
    dump "$LOG"
    say "PostgreSQL died while '$1' was running (its log is above)"
    ((rc != 0)) || rc=1
elif ((rc != 0)) && grep -qE '\] (PANIC|FATAL): ' "$LOG"; then
    say "'$1' failed (status $rc); PANIC/FATAL lines from the PostgreSQL log:"
    grep -E '\] (PANIC|FATAL): ' "$LOG" | tail -n 40 >&2
fi
exit "$rc"
