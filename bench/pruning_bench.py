#!/usr/bin/python3
"""Early stopping on an equal budget of training steps: random search on
schedy-server without a pruner, with the median rule and with ASHA, side by
side with Optuna 3.1's MedianPruner and SuccessiveHalvingPruner on the same
synthetic learning curves, 4 parallel workers, several seeds. Then the cost of
judging a report when an experiment holds 10,000 DONE jobs.

    /usr/bin/python3 bench/pruning_bench.py SCHEDY_SERVER_BINARY [--seeds 8] [--budget 2048]

Uses Debian 12's python3-optuna (3.1): run it with /usr/bin/python3. Prints a
Markdown table (docs/performance.md, "Early stopping").

The curves: a configuration (x, y in [0, 1), lr log-uniform in [1e-4, 1e-1),
width in [0, 1)) trains for STEPS steps; its loss at step t (1-based) is
    final + size * exp(-t / tau)
with final = (x - 0.3)^2 + (log10(lr) + 2.5)^2 / 4 + (y - 0.7)^2 (best 0 at
x = 0.3, y = 0.7, lr = 10^-2.5), and size = 0.2 + 2 * width and tau = 4 + 12 * (1 - width): the
decaying term varies by configuration (a wide start can hide a good final
value), plus noise of 0.01 drawn per (configuration, step). The budget counts
training steps over all workers; a job cut by the end of the budget does not
count as finished. The best final value is the lowest final loss (step STEPS)
of the finished jobs; its regret is the noise-free final loss of that job's
configuration (what a user who takes the best job gets).
"""
import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

STEPS = 64
WORKERS = 4


def true_final(hp):
    return (hp["x"] - 0.3) ** 2 + (math.log10(hp["lr"]) + 2.5) ** 2 / 4 + (hp["y"] - 0.7) ** 2


def curve_value(hp, step, seed):
    x, lr, width = hp["x"], hp["lr"], hp["width"]
    final = true_final(hp)
    size = 0.2 + 2 * width
    tau = 4 + 12 * (1 - width)
    noise = random.Random(hash((round(x, 12), round(lr, 15), round(width, 12), round(hp["y"], 12), step,
                                 seed))).gauss(0, 0.01)
    return final + size * math.exp(-step / tau) + noise


class Budget:
    def __init__(self, steps):
        self.left = steps
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


# ---- schedy-server -----------------------------------------------------------

class Server:
    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="schedy-prune-bench-")
        self.url = "sqlite:" + os.path.join(self.dir, "db.sqlite3")
        out = subprocess.run([binary, "--database", self.url, "user", "add", "bench@example.com"],
                             check=True, capture_output=True, text=True).stdout
        config = json.loads(out)
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.proc = subprocess.Popen([binary, "--database", self.url, "serve", "--listen",
                                      "127.0.0.1:%d" % self.port, "--quiet"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.root = "http://127.0.0.1:%d/" % self.port
        for _ in range(200):
            try:
                self.token = self.request("POST", "token/", {"email": config["email"],
                                                              "token": config["token"]}, auth=False)[1]["token"]
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        else:
            raise RuntimeError("schedy-server did not start")

    def request(self, method, path, body=None, headers=None, auth=True):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.root + path, data=data, method=method)
        if auth:
            req.add_header("Authorization", "Bearer " + self.token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, None, dict(e.headers)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


SPACE = {"x": {"uniform": {"low": 0.0, "high": 1.0}},
         "y": {"uniform": {"low": 0.0, "high": 1.0}},
         "lr": {"loguniform": {"low": 1e-4, "high": 1e-1}},
         "width": {"uniform": {"low": 0.0, "high": 1.0}}}


def run_schedy(server, name, pruner, budget_steps, seed):
    doc = {"status": "RUNNING", "scheduler": {"RandomSearch": SPACE}}
    if pruner:
        doc["pruner"] = pruner
    status = server.request("PUT", "experiments/%s/" % name, doc)[0]
    assert status in (200, 201), status
    budget = Budget(budget_steps)
    finished, tried = [], [0]
    lock = threading.Lock()

    def worker():
        while True:
            status, job, headers = server.request("GET", "experiments/%s/nextjob/" % name)
            if status != 200:
                return
            path = "experiments/%s/jobs/%s/" % (name, job["id"])
            hp = job["hyperparameters"]
            status, _, headers = server.request("PUT", path, {"status": "RUNNING", "hyperparameters": hp},
                                                {"If-Match": headers["ETag"]})
            if status != 200:
                continue
            with lock:
                tried[0] += 1
            etag, curve = headers["ETag"], []
            for step in range(1, STEPS + 1):
                if not budget.take():
                    return
                curve.append(curve_value(hp, step, seed))
                final = step == STEPS
                status, _, headers = server.request(
                    "PUT", path, {"status": "DONE" if final else "RUNNING", "hyperparameters": hp,
                                  "results": {"loss": curve}}, {"If-Match": etag})
                if status != 200 or headers.get("Schedy-Job-Status") == "PRUNED":
                    break
                etag = headers["ETag"]
                if final:
                    with lock:
                        finished.append((curve[-1], true_final(hp)))

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tried[0], (min(finished) if finished else (float("nan"), float("nan")))


# ---- Optuna ----------------------------------------------------------------------

def run_optuna(pruner_name, budget_steps, seed):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = {"none": optuna.pruners.NopPruner(),
              "median": optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0),
              "asha": optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=4)}[pruner_name]
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.RandomSampler(seed=seed),
                                pruner=pruner)
    budget = Budget(budget_steps)
    finished, tried = [], [0]
    lock = threading.Lock()

    def worker():
        while True:
            if budget.left <= 0:
                return
            trial = study.ask()
            hp = {"x": trial.suggest_float("x", 0.0, 1.0),
                  "y": trial.suggest_float("y", 0.0, 1.0),
                  "lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
                  "width": trial.suggest_float("width", 0.0, 1.0)}
            with lock:
                tried[0] += 1
            state = optuna.trial.TrialState.FAIL
            for step in range(1, STEPS + 1):
                if not budget.take():
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                    return
                value = curve_value(hp, step, seed)
                if step == STEPS:
                    study.tell(trial, value)
                    with lock:
                        finished.append((value, true_final(hp)))
                    state = None
                    break
                # Steps as ours (1-based): the rungs are at the same steps.
                trial.report(value, step)
                if trial.should_prune():
                    state = optuna.trial.TrialState.PRUNED
                    break
            if state is not None:
                study.tell(trial, state=state)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tried[0], (min(finished) if finished else (float("nan"), float("nan")))


# ---- the cost of judging a report ---------------------------------------------------

def prune_cost(server, done_jobs):
    """Median latency of a RUNNING report that lengthens the curve, in an experiment
    holding `done_jobs` DONE jobs of STEPS steps: without a pruner, then with the
    median rule, then with ASHA (each set by a PUT, which rebuilds what the rule
    compares with from the jobs)."""
    out = {}
    name = "cost"
    server.request("PUT", "experiments/%s/" % name, {"status": "RUNNING", "scheduler": {"Manual": None}})

    def load(first):
        rng = random.Random(first)
        for i in range(first, done_jobs, WORKERS):
            base = rng.random()
            curve = [base + 1.0 / (s + 1) for s in range(STEPS)]
            status = server.request("POST", "experiments/%s/jobs/" % name,
                                    {"status": "DONE", "results": {"loss": curve}})[0]
            assert status == 201, status

    threads = [threading.Thread(target=load, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for label, pruner in (("none", None),
                          ("median", {"kind": "median", "result": "loss", "direction": "minimize",
                                      "startupJobs": 5}),
                          ("asha", {"kind": "asha", "result": "loss", "direction": "minimize",
                                    "minSteps": 1, "reductionFactor": 4})):
        t0 = time.perf_counter()
        status = server.request("PUT", "experiments/%s/" % name, {"status": "RUNNING", "scheduler": {"Manual": None},
                                                                  "pruner": pruner})[0]
        assert status == 200, status
        out[label + " set"] = (time.perf_counter() - t0) * 1000
        latencies = []
        # The first 10 jobs warm up (a bulk load or a rebuild leaves SQLite a long WAL to
        # checkpoint); the next 40 are measured.
        for i in range(50):
            status, job, headers = server.request("POST", "experiments/%s/jobs/" % name,
                                                  {"status": "QUEUED", "hyperparameters": {"i": i}})
            path = "experiments/%s/jobs/%s/" % (name, job["id"])
            status, _, headers = server.request("PUT", path, {"status": "RUNNING"}, {"If-Match": headers["ETag"]})
            etag = headers["ETag"]
            # A good curve, so that it is judged at every step and never stopped; steps 1..16.
            for step in range(1, 17):
                curve = [-1.0 - s for s in range(step)]
                t0 = time.perf_counter()
                status, _, headers = server.request("PUT", path, {"status": "RUNNING", "results": {"loss": curve}},
                                                    {"If-Match": etag})
                if i >= 10:
                    latencies.append(time.perf_counter() - t0)
                assert status == 200 and "Schedy-Job-Status" not in headers, (status, headers)
                etag = headers["ETag"]
            server.request("PUT", path, {"status": "CRASHED"}, {"If-Match": etag})
        out[label] = statistics.median(latencies) * 1000
    return out


def optuna_prune_cost(done_trials):
    """Optuna 3.1's own should_prune() on an in-memory study of `done_trials` complete
    trials, median milliseconds (the same question, for scale)."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = {}
    rng = random.Random(7)
    for label, pruner in (("median", optuna.pruners.MedianPruner(n_startup_trials=5)),
                          ("asha", optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=4))):
        study = optuna.create_study(direction="minimize", pruner=pruner)
        for i in range(done_trials):
            t = study.ask()
            base = rng.random()
            for s in range(1, STEPS + 1):
                t.report(base + 1.0 / (s + 1), s)
            if label == "asha":  # the rung values should_prune() would have recorded
                for rung, s in enumerate((1, 4, 16, 64)):
                    study._storage.set_trial_system_attr(t._trial_id, "completed_rung_%d" % rung,
                                                         base + 1.0 / (s + 1))
            study.tell(t, base)
        latencies = []
        for i in range(20):
            t = study.ask()
            for s in range(1, 17):
                t.report(-1.0 - s, s)
                t0 = time.perf_counter()
                t.should_prune()
                latencies.append(time.perf_counter() - t0)
            study.tell(t, state=optuna.trial.TrialState.FAIL)
        out[label] = statistics.median(latencies) * 1000
    return out


def print_search_table(args, rows):
    print("\n%d seeds, budget %d training steps, %d steps per full job, %d workers\n"
          % (args.seeds, args.budget, STEPS, WORKERS))
    print("| search | configurations tried (median) | x no pruning | best final loss (median) | "
          "its regret (median) | regret (mean) |")
    print("|---|---|---|---|---|---|")
    for system in ("schedy", "optuna"):
        base = statistics.median(t for t, _ in rows[(system, "none")])
        for pruner_name in ("none", "median", "asha"):
            r = rows[(system, pruner_name)]
            tried = statistics.median(t for t, _ in r)
            bests = [b for _, b in r if not math.isnan(b[0])]
            nan = float("nan")
            print("| %s %s | %g | %.1f | %.4f | %.4f | %.4f |" % (
                "Schedy" if system == "schedy" else "Optuna 3.1", pruner_name, tried, tried / base,
                statistics.median(b[0] for b in bests) if bests else nan,
                statistics.median(b[1] for b in bests) if bests else nan,
                statistics.mean(b[1] for b in bests) if bests else nan))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--budget", type=int, default=2048, help="training steps per run (all workers)")
    ap.add_argument("--done-jobs", type=int, default=10000)
    ap.add_argument("--skip-cost", action="store_true")
    ap.add_argument("--only-cost", action="store_true")
    args = ap.parse_args()

    rows = {}
    variants = [("schedy", "none", None),
                ("schedy", "median", {"kind": "median", "result": "loss", "direction": "minimize",
                                      "startupJobs": 5, "warmupSteps": 0}),
                ("schedy", "asha", {"kind": "asha", "result": "loss", "direction": "minimize",
                                    "minSteps": 1, "reductionFactor": 4}),
                ("optuna", "none", None), ("optuna", "median", None), ("optuna", "asha", None)]
    server = Server(args.server)
    try:
        for seed in range(0 if args.only_cost else args.seeds):
            for system, pruner_name, pruner in variants:
                t0 = time.time()
                if system == "schedy":
                    tried, best = run_schedy(server, "s%d-%s" % (seed, pruner_name), pruner, args.budget, seed)
                else:
                    tried, best = run_optuna(pruner_name, args.budget, seed)
                rows.setdefault((system, pruner_name), []).append((tried, best))
                print("seed %d %-6s %-6s tried %4d best %.4f regret %.4f (%.1f s)"
                      % (seed, system, pruner_name, tried, best[0], best[1], time.time() - t0), file=sys.stderr)
        if not args.only_cost:
            print_search_table(args, rows)
        if not args.skip_cost:
            cost = prune_cost(server, args.done_jobs)
            optuna_cost = optuna_prune_cost(args.done_jobs)
            print("\nA RUNNING report that lengthens the curve, %d DONE jobs of %d steps (median ms):\n"
                  % (args.done_jobs, STEPS))
            print("| pruner | Schedy PUT round trip | judging (PUT minus no pruner) | Optuna 3.1 should_prune() |")
            print("|---|---|---|---|")
            for label in ("none", "median", "asha"):
                print("| %s | %.2f | %s | %s |" % (
                    label, cost[label], "-" if label == "none" else "%.2f" % (cost[label] - cost["none"]),
                    "%.2f" % optuna_cost[label] if label in optuna_cost else "-"))
            print("\nSetting the pruner (rebuilding from the %d jobs): median %.0f ms, ASHA %.0f ms"
                  % (args.done_jobs, cost["median set"], cost["asha set"]))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
