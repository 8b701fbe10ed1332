#!/usr/bin/python3
"""Optuna baseline for schedy-loadgen: K worker processes run the same worker
loop as Schedy's (get a trial, suggest three hyperparameters, report a value)
with Optuna's ask/tell interface on RDB storage in a temporary SQLite file,
and the completed trials per second are printed.

Uses Debian 12's python3-optuna (3.1) -- run it with /usr/bin/python3.

    /usr/bin/python3 bench/optuna_workers.py --workers 8 --seconds 10 [--json]
"""
import argparse
import json
import multiprocessing as mp
import os
import random
import shutil
import sys
import tempfile
import time


def worker(url, study_name, sampler_name, start_at, warmup, seconds, seed, out):
    import optuna
    from optuna.storages import RDBStorage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}})
    sampler = (optuna.samplers.TPESampler(seed=seed) if sampler_name == "tpe"
               else optuna.samplers.RandomSampler(seed=seed))
    study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler)
    rng = random.Random(seed)
    measure_from = start_at + warmup
    stop_at = measure_from + seconds
    latencies = []  # seconds, per trial (ask + 3 suggestions + tell)
    count = errors = 0
    first_error = ""
    while time.time() < start_at:
        time.sleep(0.001)
    while True:
        t0 = time.time()
        if t0 >= stop_at:
            break
        try:
            trial = study.ask()
            lr = trial.suggest_float("lr", 1e-6, 0.1, log=True)
            dropout = trial.suggest_float("dropout", 0.0, 0.8)
            layers = trial.suggest_categorical("layers", [1, 2, 3, 4, 5])
            loss = rng.random() * 2.0 + 0 * (lr + dropout + layers)
            study.tell(trial, loss)
        except Exception as e:  # e.g. "database is locked" under contention
            errors += 1
            if not first_error:
                first_error = "%s: %s" % (type(e).__name__, str(e)[:200])
            continue
        t1 = time.time()
        if measure_from <= t1 < stop_at:
            count += 1
            latencies.append(t1 - t0)
    out.put((count, errors, first_error, latencies))


def cpu_seconds(pids):
    """(machine busy CPU seconds, CPU seconds of the given processes), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    machine = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / tick  # all but idle and iowait
    own = 0.0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            own += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return machine, own


def percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100.0 * len(values)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--sampler", choices=["random", "tpe"], default="random",
                    help="random matches Schedy's RandomSearch (default); tpe is Optuna's default sampler")
    ap.add_argument("--json", action="store_true", help="also print one JSON line of figures")
    args = ap.parse_args()
    if not 1 <= args.workers <= 64:
        ap.error("--workers must be from 1 to 64")
    if not 0 < args.seconds <= 3600:
        ap.error("--seconds must be in (0, 3600]")

    import optuna
    from optuna.storages import RDBStorage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tmp = tempfile.mkdtemp(prefix="optuna-bench-")
    try:
        url = "sqlite:///" + os.path.join(tmp, "optuna.sqlite3")
        storage = RDBStorage(url)
        optuna.create_study(study_name="bench", storage=storage, direction="minimize")
        del storage
        ctx = mp.get_context("fork")
        out = ctx.Queue()
        start_at = time.time() + 2.0  # lets every process import and connect first
        procs = [ctx.Process(target=worker,
                             args=(url, "bench", args.sampler, start_at, args.warmup, args.seconds, i + 1, out))
                 for i in range(args.workers)]
        for p in procs:
            p.start()
        # CPU over the measured window: the workers' own, and everything else's.
        pids = [p.pid for p in procs]
        time.sleep(max(0.0, start_at + args.warmup - time.time()))
        machine0, own0 = cpu_seconds(pids)
        time.sleep(max(0.0, start_at + args.warmup + args.seconds - time.time()))
        machine1, own1 = cpu_seconds(pids)
        cpu_workers = (own1 - own0) / args.seconds
        cpu_other = (machine1 - machine0) / args.seconds - cpu_workers
        results = [out.get(timeout=600) for _ in procs]
        for p in procs:
            p.join()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    trials = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    first_error = next((r[2] for r in results if r[2]), "")
    lat = [x for r in results for x in r[3]]
    rate = trials / args.seconds
    print("optuna %s, %s sampler, RDB storage on SQLite, %d worker processes, %.1f s"
          % (optuna.__version__, args.sampler, args.workers, args.seconds))
    print("trials             %d  (%.1f trials/s)" % (trials, rate))
    print("trial latency      p50 %.2f ms   p99 %.2f ms   max %.2f ms"
          % (percentile(lat, 50) * 1e3, percentile(lat, 99) * 1e3, max(lat or [0]) * 1e3))
    print("errors             %d%s" % (errors, ("  first: " + first_error) if first_error else ""))
    print("cpu (cores)        machine %.2f of %d   workers %.2f   other %.2f%s"
          % (cpu_workers + cpu_other, os.cpu_count(), cpu_workers, cpu_other,
             "   (other work was running: figures are noisy)" if cpu_other > 0.15 else ""))
    if args.json:
        print(json.dumps({"optuna": optuna.__version__, "sampler": args.sampler, "workers": args.workers,
                          "seconds": args.seconds, "trials": trials, "trialsPerSecond": round(rate, 1),
                          "trialP50Ms": round(percentile(lat, 50) * 1e3, 3),
                          "trialP99Ms": round(percentile(lat, 99) * 1e3, 3), "errors": errors,
                          "cpuWorkers": round(cpu_workers, 3), "cpuOther": round(cpu_other, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
