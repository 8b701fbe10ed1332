#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests and benchmarks.
#
#   scripts/postgres-test-cluster.sh start DIR [durable]
#                        creates and starts a cluster in DIR (new or empty),
#                        prints its URL
#   scripts/postgres-test-cluster.sh stop DIR
#                        stops it and removes DIR
#
# `start` installs Debian's postgresql package when no server binaries are
# found (apt-get, as root or through sudo), runs initdb and pg_ctl as the
# `postgres` system user when run as root (PostgreSQL refuses to run as root),
# listens on 127.0.0.1 on a free port with its unix socket inside DIR, and
# creates the role `schedy` (password login, CREATEDB: each test makes its own
# database). The URL, postgresql://schedy:PASSWORD@127.0.0.1:PORT/postgres, is
# the only thing printed on stdout (progress goes to stderr) and is also
# written to DIR/url. Durability is off (fsync, synchronous_commit): the data
# is thrown away anyway. With `durable` (benchmarks) fsync and full-page
# writes stay on and synchronous_commit is $SYNCHRONOUS_COMMIT (default on:
# acknowledged writes survive an abrupt stop of PostgreSQL; `off` loses the
# last commits on one, which SQLite's synchronous=NORMAL never does). Any failure exits non-zero with
# the reason on stderr.
set -euo pipefail

say() { echo "postgres-test-cluster: $*" >&2; }
die() { say "$*"; exit 1; }

find_bindir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && bindir=$d
    done
    [[ -n ${bindir:-} ]]
}

install_postgresql() {
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    say "PostgreSQL is not installed: installing Debian's postgresql package"
    $sudo apt-get update -qq >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >&2 ||
        die "apt-get install postgresql failed"
}

# Runs a PostgreSQL program as the cluster's owner.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    local dir=$1 durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if [[ ${2:-} == durable ]]; then
        durability="-c fsync=on -c full_page_writes=on -c synchronous_commit=${SYNCHRONOUS_COMMIT:-on}"
    fi
    bindir=
    find_bindir || install_postgresql
    bindir=
    find_bindir || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' system user"
    fi

    mkdir -p "$dir"
    [[ -z $(ls -A "$dir") ]] || die "$dir is not empty"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
    chmod 0700 "$dir"

    local password
    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    local pwfile="$dir/.pw"
    (umask 077 && printf '%s\n' "$password" >"$pwfile")
    [[ $(id -u) -eq 0 ]] && chown postgres: "$pwfile"

    say "initdb in $dir/data ($bindir)"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    rm -f "$pwfile"

    # A random high port; another one when it is taken (the start fails then).
    local port attempt started=
    for attempt in 1 2 3 4 5; do
        port=$(( (RANDOM << 15 | RANDOM) % 20000 + 30000 ))
        if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir \
                $durability -c max_connections=300 -c shared_buffers=128MB" >/dev/null 2>&1; then
            started=1
            break
        fi
        say "start on port $port failed (attempt $attempt):"
        tail -n 5 "$dir/server.log" >&2 || true
    done
    [[ -n $started ]] || die "PostgreSQL did not start; see $dir/server.log"

    as_owner "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres \
        -c "CREATE ROLE schedy LOGIN CREATEDB PASSWORD '$password'" >&2 ||
        die "cannot create the schedy role"
    local url="postgresql://schedy:$password@127.0.0.1:$port/postgres"
    (umask 077 && printf '%s\n' "$url" >"$dir/url")
    say "running on 127.0.0.1:$port (data in $dir)"
    printf '%s\n' "$url"
}

stop() {
    local dir=$1
    [[ -d $dir ]] || return 0
    bindir=
    if [[ -f $dir/data/postmaster.pid ]] && find_bindir; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
start) [[ $# -eq 2 || ( $# -eq 3 && $3 == durable ) ]] || die "usage: $0 start DIR [durable]"; start "$2" "${3:-}" ;;
stop) [[ $# -eq 2 ]] || die "usage: $0 stop DIR"; stop "$2" ;;
*) die "usage: $0 start|stop DIR" ;;
esac
