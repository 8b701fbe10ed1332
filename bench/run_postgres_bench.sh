#!/usr/bin/env bash
# Worker throughput of schedy-server on SQLite, on PostgreSQL with one server
# process, and on PostgreSQL with several processes on one database
# (docs/performance.md, "PostgreSQL and several processes").
#
#   bench/run_postgres_bench.sh [BUILD_DIR]      (default build/release)
#
# Builds nothing: BUILD_DIR must hold src/server/schedy-server and
# bench/schedy-loadgen. Starts a throwaway PostgreSQL cluster with durable
# settings (scripts/postgres-test-cluster.sh start DIR durable: fsync on,
# synchronous_commit on: acknowledged writes survive an abrupt stop),
# then for each configuration a fresh database, the server(s) with --quiet on
# free loopback ports, and schedy-loadgen: WORKERS workers in all, split evenly
# over the processes (one loadgen per process, run at the same time, all on one
# experiment), DURATION seconds after 1 s of warm-up. Prints one line per
# configuration (cycles/s summed over the loadgens, the worst p50/p99 of them).
#
# Environment: WORKERS (12), DURATION (10), PROCESSES (3), SCHEDULER
# (random|manual), SYNCHRONOUS_COMMIT (on; off only to compare: it loses acknowledged writes),
# PG_SOCKET (0: TCP on 127.0.0.1; 1: the cluster's Unix socket),
# PYTHON (/usr/bin/python3).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${1:-build/release}
[[ $build = /* ]] || build="$repo/$build"
server="$build/src/server/schedy-server"
loadgen="$build/bench/schedy-loadgen"
workers=${WORKERS:-12}
duration=${DURATION:-10}
processes=${PROCESSES:-3}
scheduler=${SCHEDULER:-random}
python=${PYTHON:-/usr/bin/python3}

for exe in "$server" "$loadgen"; do
    if [[ ! -x $exe ]]; then
        echo "run_postgres_bench: $exe not found; build first, e.g." >&2
        echo "  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCHEDY_BUILD_TESTS=OFF" >&2
        echo "  cmake --build build/release -j2 --target schedy-server schedy-loadgen" >&2
        exit 2
    fi
done
if (( workers % processes )); then
    echo "run_postgres_bench: WORKERS ($workers) must be a multiple of PROCESSES ($processes)" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/schedy-pgbench.XXXXXX")
pgdir=$(mktemp -d /tmp/schedy-pgbench-cluster.XXXXXX)
pids=()
stop_servers() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=()
}
cleanup() {
    stop_servers
    "$repo/scripts/postgres-test-cluster.sh" stop "$pgdir" || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting PostgreSQL (fsync on, synchronous_commit ${SYNCHRONOUS_COMMIT:-on})"
base_url=$("$repo/scripts/postgres-test-cluster.sh" start "$pgdir" durable)
pg_version=$(psql "$base_url" -XAtc "SHOW server_version")

# Starts one server on DB (a URL) on a free port; appends its pid and root.
start_server() { # NAME DB
    local name=$1 db=$2 log="$tmp/$1.log" root=
    "$server" --database "$db" serve --listen 127.0.0.1:0 --quiet 2>"$log" &
    pids+=($!)
    for _ in $(seq 200); do
        root=$(sed -n 's/^schedy-server .* listening on \(http[^ ]*\) .*/\1/p' "$log" | head -n 1)
        [[ -n $root ]] && break
        kill -0 "${pids[-1]}" 2>/dev/null || break
        sleep 0.05
    done
    if [[ -z $root ]]; then
        echo "run_postgres_bench: the server did not start:" >&2
        cat "$log" >&2
        exit 1
    fi
    roots+=("$root")
}

# CPU time (clock ticks) of the PostgreSQL cluster: the postmaster and its backends.
pg_ticks() {
    local pm total=0 pid
    pm=$(head -n 1 "$pgdir/data/postmaster.pid")
    for pid in $pm $(ps -o pid= --ppid "$pm"); do
        [[ -r /proc/$pid/stat ]] || continue
        total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
    done
    echo "$total"
}

# One configuration: COUNT processes on DB, WORKERS workers split over them.
run_config() { # LABEL DB COUNT
    local label=$1 db=$2 count=$3 i
    roots=()
    "$server" --database "$db" user add bench@example.com >"$tmp/client.json"
    for ((i = 0; i < count; ++i)); do
        start_server "$label-$i" "$db"
    done
    local lpids=() t0 t1 p0 p1
    t0=$(date +%s.%N)
    p0=$(pg_ticks)
    for ((i = 0; i < count; ++i)); do
        "$loadgen" --config "$tmp/client.json" --root "${roots[$i]}" --workers $((workers / count)) \
            --seconds "$duration" --scheduler "$scheduler" --experiment bench --server-pid "${pids[$i]}" --json \
            >"$tmp/$label-$i.out" 2>"$tmp/$label-$i.err" &
        lpids+=($!)
    done
    local failed=0
    for i in "${!lpids[@]}"; do
        wait "${lpids[$i]}" || { failed=1; cat "$tmp/$label-$i.err" "$tmp/$label-$i.out" >&2; }
    done
    t1=$(date +%s.%N)
    p1=$(pg_ticks)
    # PostgreSQL's CPU over the loadgens' whole run (warm-up included), in cores.
    awk -v a="$p0" -v b="$p1" -v s="$t0" -v e="$t1" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.3f\n", (b - a) / hz / (e - s) }' >"$tmp/$label.pgcpu"
    stop_servers
    ((failed == 0)) || { echo "run_postgres_bench: a loadgen failed ($label)" >&2; exit 1; }
    for ((i = 0; i < count; ++i)); do
        grep '^{' "$tmp/$label-$i.out" | sed "s/^{/{\"label\":\"$label\",/"
    done >"$tmp/$label.json"
}

new_pg_db() { # NAME -> URL (over the cluster's Unix socket with PG_SOCKET=1)
    psql "$base_url" -XqAtc "CREATE DATABASE $1" >/dev/null
    if [[ ${PG_SOCKET:-0} == 1 ]]; then
        echo "$(sed 's|@127\.0\.0\.1:|@:|' <<<"${base_url%/postgres}")/$1?host=$pgdir"
    else
        echo "${base_url%/postgres}/$1"
    fi
}

echo "== machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "== PostgreSQL $pg_version over $([[ ${PG_SOCKET:-0} == 1 ]] && echo "its Unix socket" || echo "TCP"); $workers workers, $scheduler scheduler, ${duration} s each"
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg) (figures are only meaningful on an idle machine)"
run_config sqlite "sqlite:$tmp/bench.sqlite3" 1
run_config pg1 "$(new_pg_db bench_one)" 1
run_config "pg$processes" "$(new_pg_db bench_many)" "$processes"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$python" - "$tmp" "$processes" <<'EOF'
import json, os, sys
tmp, processes = sys.argv[1], int(sys.argv[2])
rows = [("SQLite, 1 process", "sqlite"), ("PostgreSQL, 1 process", "pg1"),
        ("PostgreSQL, %d processes" % processes, "pg%d" % processes)]
print("%-26s %9s %10s %9s %9s %9s %9s %6s %6s %12s %10s %13s" % ("configuration", "cycles/s", "requests/s",
      "req p50", "req p99", "cyc p50", "cyc p99", "412s", "errors", "server cpu", "pg cpu", "machine busy"))
for label, key in rows:
    parts = [json.loads(l) for l in open(os.path.join(tmp, key + ".json")) if l.strip()]
    cps = sum(p["cyclesPerSecond"] for p in parts)
    rps = sum(p["requestsPerSecond"] for p in parts)
    worst = lambda k: max(p[k] for p in parts)
    cpu = sum(max(p["cpuServer"], 0) for p in parts)
    pgcpu = float(open(os.path.join(tmp, key + ".pgcpu")).read()) if key != "sqlite" else 0.0
    machine = max(p["cpuMachine"] for p in parts)
    print("%-26s %9.0f %10.0f %7.2fms %7.2fms %7.2fms %7.2fms %6d %6d %7.2f cores %5.2f cores %6.2f of %d"
          % (label, cps, rps, worst("requestP50Ms"), worst("requestP99Ms"), worst("cycleP50Ms"),
             worst("cycleP99Ms"), sum(p["preconditionFailed"] for p in parts), sum(p["errors"] for p in parts), cpu,
             pgcpu, machine, os.cpu_count()))
    print(json.dumps({"configuration": label, "cyclesPerSecond": round(cps, 1), "requestsPerSecond": round(rps, 1),
                      "parts": parts}), file=open(os.path.join(tmp, "summary.jsonl"), "a"))
EOF
