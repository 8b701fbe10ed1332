#!/usr/bin/env bash
# Worker throughput of schedy-server on SQLite, side by side with Optuna.
#
#   bench/run_server_bench.sh [BUILD_DIR]      (default build/release)
#
# Builds nothing: BUILD_DIR must hold src/server/schedy-server and
# bench/schedy-loadgen (configure with -DCMAKE_BUILD_TYPE=Release). For each of
# two runs -- the server with --quiet, then with its request log going to a
# file -- it starts schedy-server on a free loopback port with a fresh
# temporary database, runs schedy-loadgen (WORKERS workers, DURATION seconds
# after 1 s of warm-up), and stops the server. Then it runs
# bench/optuna_workers.py (Optuna RDB storage on SQLite, same worker count and
# duration) and prints the figures and the ratio.
#
# Everything is repeated RUNS times and the summary gives each run and the
# median. Each loadgen run also reports the CPU used over its measured window
# by the server, by the load generator and by everything else ("other"): a run
# with other > 0.15 cores shared the machine with other work and is flagged.
#
# Environment: WORKERS (8), DURATION (10), RUNS (1), SCHEDULER (random|manual),
# LEASE_SECONDS (server default), SKIP_OPTUNA=1, PYTHON (/usr/bin/python3:
# Debian's python3-optuna).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${1:-build/release}
[[ $build = /* ]] || build="$repo/$build"
server="$build/src/server/schedy-server"
loadgen="$build/bench/schedy-loadgen"
workers=${WORKERS:-8}
duration=${DURATION:-10}
scheduler=${SCHEDULER:-random}
runs=${RUNS:-1}
python=${PYTHON:-/usr/bin/python3}

for exe in "$server" "$loadgen"; do
    if [[ ! -x $exe ]]; then
        echo "run_server_bench: $exe not found; build first, e.g." >&2
        echo "  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCHEDY_BUILD_TESTS=OFF" >&2
        echo "  cmake --build build/release -j2" >&2
        exit 2
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/schedy-bench.XXXXXX")
server_pid=
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts the server on a free port (port 0: the kernel picks one); sets $root.
start_server() { # NAME LOGFILE [SERVER OPTIONS...]
    local name=$1 log=$2
    shift 2
    local db="$tmp/$name.sqlite3"
    "$server" --database "sqlite:$db" user add bench@example.com >"$tmp/$name-client.json"
    "$server" --database "sqlite:$db" serve --listen 127.0.0.1:0 "$@" 2>"$log" &
    server_pid=$!
    root=
    for _ in $(seq 100); do
        root=$(sed -n 's/^schedy-server .* listening on \(http[^ ]*\) .*/\1/p' "$log" | head -n 1)
        [[ -n $root ]] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    if [[ -z $root ]]; then
        echo "run_server_bench: the server did not start:" >&2
        cat "$log" >&2
        exit 1
    fi
}

stop_server() {
    kill -TERM "$server_pid"
    wait "$server_pid" || true
    server_pid=
}

run_loadgen() { # NAME LOGFILE [SERVER OPTIONS...]
    local name=$1
    start_server "$@"
    "$loadgen" --config "$tmp/$name-client.json" --root "$root" --workers "$workers" --seconds "$duration" \
        --scheduler "$scheduler" --experiment bench --server-pid "$server_pid" --json |
        tee "$tmp/$name.out" | grep -v '^{' || echo "(schedy-loadgen reported errors)"
    stop_server
    grep '^{' "$tmp/$name.out" >"$tmp/$name.json" || true
}

lease=()
[[ -n ${LEASE_SECONDS:-} ]] && lease=(--lease-seconds "$LEASE_SECONDS")

echo "== machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg) (figures are only meaningful on an idle machine)"
echo
for run in $(seq "$runs"); do
    echo "== run $run/$runs: schedy-server --quiet, $workers workers, ${duration} s"
    run_loadgen "quiet-$run" "$tmp/quiet-$run-server.log" --quiet "${lease[@]}"
    echo
    echo "== run $run/$runs: schedy-server logging every request to a file, $workers workers, ${duration} s"
    run_loadgen "logged-$run" "$tmp/logged-$run-server.log" "${lease[@]}"
    echo "($(($(wc -l <"$tmp/logged-$run-server.log") - 2)) request lines logged)"
    if [[ ${SKIP_OPTUNA:-0} != 1 ]]; then
        echo
        echo "== run $run/$runs: Optuna ask/tell, RDB storage on SQLite, $workers processes, ${duration} s"
        "$python" "$here/optuna_workers.py" --workers "$workers" --seconds "$duration" --json |
            tee "$tmp/optuna-$run.out" | grep -v '^{' || echo "(optuna_workers.py failed)"
        grep '^{' "$tmp/optuna-$run.out" >"$tmp/optuna-$run.json" || true
    fi
    echo
done

echo "== summary (load after: $(cut -d' ' -f1-3 /proc/loadavg))"
"$python" - "$tmp" "$runs" <<'EOF'
import json, os, statistics, sys
tmp, runs = sys.argv[1], int(sys.argv[2])
def load(name):
    path = os.path.join(tmp, name + ".json")
    return json.load(open(path)) if os.path.exists(path) and os.path.getsize(path) else None
def line(label, r):
    print("%-16s %5.0f cycles/s %6.0f req/s  request p50 %.2f p99 %.2f ms  cycle p50 %.2f p99 %.2f ms"
          "  412s %d errors %d  cpu: server %.2f loadgen %.2f other %.2f%s"
          % (label, r["cyclesPerSecond"], r["requestsPerSecond"], r["requestP50Ms"], r["requestP99Ms"],
             r["cycleP50Ms"], r["cycleP99Ms"], r["preconditionFailed"], r["errors"], r["cpuServer"],
             r["cpuLoadgen"], r["cpuOther"], "  NOISY" if r["cpuOther"] > 0.15 else ""))
med = {}
for kind in ("quiet", "logged"):
    rs = [r for r in (load("%s-%d" % (kind, i)) for i in range(1, runs + 1)) if r]
    for i, r in enumerate(rs, 1):
        line("%s run %d" % (kind, i), r)
    if rs:
        med[kind] = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        if runs > 1:
            line("%s median" % kind, med[kind])
optuna = [r for r in (load("optuna-%d" % i) for i in range(1, runs + 1)) if r]
for i, r in enumerate(optuna, 1):
    print("%-16s %5.1f trials/s  trial p50 %.1f ms p99 %.1f ms  errors %d  (optuna %s, %s sampler)"
          "  cpu: workers %.2f other %.2f%s"
          % ("optuna run %d" % i, r["trialsPerSecond"], r["trialP50Ms"], r["trialP99Ms"], r["errors"],
             r["optuna"], r["sampler"], r["cpuWorkers"], r["cpuOther"], "  NOISY" if r["cpuOther"] > 0.15 else ""))
if optuna:
    o = statistics.median(r["trialsPerSecond"] for r in optuna)
    if runs > 1:
        print("%-16s %5.1f trials/s" % ("optuna median", o))
    if o > 0 and med:
        print("ratio            %.1fx with --quiet, %.1fx with request logging (medians)"
              % (med["quiet"]["cyclesPerSecond"] / o, med["logged"]["cyclesPerSecond"] / o))
EOF
