#!/usr/bin/python3
"""Search quality and speed of schedy-server's samplers against Optuna 3.1.

Quality: Branin, Hartmann-6 and a 5-dimensional mixed space (two log-uniform,
one uniform, two choices), 60 jobs with 4 workers in parallel, for each seed:
our TPE and our random search (a real schedy-server, jobs handed out by
nextjob/ and reported by PUT as a worker does), Optuna's TPESampler and
RandomSampler (ask/tell, 4 trials in flight). Parallelism is a pipeline of
depth 4: four jobs are handed out, then the oldest is reported and another
asked for, so every method sees the same order of events. Prints the median
simple regret (best value found minus the optimum) per method and problem,
and their geometric mean over the problems.

Speed: nextjob/ of a TPE search holding N DONE jobs (the request the worker
makes, over HTTP), against Optuna's ask() of a TPESampler with N complete
trials in memory, measured in the same run.

    /usr/bin/python3 bench/sampler_bench.py --server build/ci/src/server/schedy-server \
        [--seeds 16] [--speed 5000,50000] [--json]
"""
import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

# ---- problems ------------------------------------------------------------------

def branin(p):
    x, y = p["x"], p["y"]
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10

HARTMANN_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
              [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN_P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
              [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
              [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
              [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]
HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]

def hartmann6(p):
    x = [p["x%d" % i] for i in range(6)]
    return -sum(HARTMANN_ALPHA[i] * math.exp(-sum(HARTMANN_A[i][j] * (x[j] - HARTMANN_P[i][j]) ** 2
                                                 for j in range(6))) for i in range(4))

MIXED_C1 = {"sgd": 1.0, "adam": 0.0, "rmsprop": 0.5}
MIXED_C2 = {16: 0.8, 32: 0.3, 64: 0.0, 128: 0.4}

def mixed(p):
    return ((math.log10(p["lr"]) + 3.0) ** 2 + (math.log10(p["wd"]) + 4.5) ** 2 / 2
            + 4 * (p["dropout"] - 0.3) ** 2 + MIXED_C1[p["opt"]] + MIXED_C2[p["batch"]])

PROBLEMS = {
    "branin": (branin, 0.397887357729739, {
        "x": {"uniform": {"low": -5.0, "high": 10.0}}, "y": {"uniform": {"low": 0.0, "high": 15.0}}}),
    "hartmann6": (hartmann6, -3.32236801141551, {
        "x%d" % i: {"uniform": {"low": 0.0, "high": 1.0}} for i in range(6)}),
    "mixed5": (mixed, 0.0, {
        "lr": {"loguniform": {"low": 1e-5, "high": 1e-1}}, "wd": {"loguniform": {"low": 1e-7, "high": 1e-2}},
        "dropout": {"uniform": {"low": 0.0, "high": 0.8}},
        "opt": {"choice": {"values": ["sgd", "adam", "rmsprop"]}},
        "batch": {"choice": {"values": [16, 32, 64, 128]}}}),
}

JOBS = 60
PARALLEL = 4

# ---- schedy-server ---------------------------------------------------------------

class Schedy:
    def __init__(self, binary, workdir):
        self.db = "sqlite:" + os.path.join(workdir, "bench.sqlite3")
        out = subprocess.run([binary, "--database", self.db, "user", "add", "bench@example.com"],
                             check=True, capture_output=True, text=True).stdout
        config = json.loads(out)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.root = "http://127.0.0.1:%d/" % port
        self.proc = subprocess.Popen([binary, "--database", self.db, "serve", "--listen",
                                      "127.0.0.1:%d" % port, "--quiet"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        self.bearer = None
        self.bearer = self.call("POST", "token/", {"email": config["email"], "token": config["token"]})[1]["token"]

    def close(self):
        self.proc.terminate()
        self.proc.wait()

    def call(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.root + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.bearer:
            req.add_header("Authorization", "Bearer " + self.bearer)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req) as r:
                text = r.read()
                return r.status, (json.loads(text) if text else None), r.headers
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null"), e.headers

    def experiment(self, name, space, sampler):
        body = {"status": "RUNNING", "scheduler": {"RandomSearch": space}}
        if sampler:
            body["sampler"] = sampler
        status, doc, _ = self.call("PUT", "experiments/%s/" % name, body)
        assert status in (200, 201), doc

    def ask(self, name):
        status, doc, headers = self.call("GET", "experiments/%s/nextjob/" % name)
        assert status == 200, (status, doc)
        path = "experiments/%s/jobs/%s/" % (name, doc["id"])
        status, claimed, headers = self.call("PUT", path, {"status": "RUNNING", "hyperparameters":
                                                           doc["hyperparameters"], "results": {}},
                                             {"If-Match": headers["ETag"]})
        assert status == 200, claimed
        return (path, headers["ETag"], doc["hyperparameters"])

    def tell(self, job, value):
        path, etag, hp = job
        status, doc, _ = self.call("PUT", path, {"status": "DONE", "hyperparameters": hp,
                                                 "results": {"loss": value}}, {"If-Match": etag})
        assert status == 200, doc

# ---- one run of 60 jobs, 4 in flight --------------------------------------------

def pipeline(ask, tell, objective):
    best = math.inf
    flight = [ask() for _ in range(PARALLEL)]
    asked = PARALLEL
    while flight:
        job, params = flight.pop(0)
        value = objective(params)
        best = min(best, value)
        tell(job, value)
        if asked < JOBS:
            flight.append(ask())
            asked += 1
    return best

def run_schedy(server, problem, kind, seed):
    objective, _, space = PROBLEMS[problem]
    name = "%s-%s-%d" % (problem, kind, seed)
    sampler = ({"kind": "tpe", "result": "loss", "direction": "minimize", "seed": seed}
               if kind == "tpe" else None)
    server.experiment(name, space, sampler)

    def ask():
        job = server.ask(name)
        return job, job[2]
    return pipeline(ask, server.tell, objective)

def optuna_distributions(space):
    import optuna.distributions as d
    out = {}
    for name, spec in space.items():
        (kind, a), = spec.items()
        if kind == "uniform":
            out[name] = d.FloatDistribution(a["low"], a["high"])
        elif kind == "loguniform":
            out[name] = d.FloatDistribution(a["low"], a["high"], log=True)
        else:
            out[name] = d.CategoricalDistribution(a["values"])
    return out

def run_optuna(problem, kind, seed):
    import optuna
    objective, _, space = PROBLEMS[problem]
    sampler = (optuna.samplers.TPESampler(seed=seed) if kind == "tpe"
               else optuna.samplers.RandomSampler(seed=seed))
    study = optuna.create_study(sampler=sampler)
    dists = optuna_distributions(space)

    def ask():
        trial = study.ask(dists)
        return trial, trial.params

    return pipeline(ask, lambda trial, value: study.tell(trial, value), objective)

# ---- speed ------------------------------------------------------------------------

def speed(server, n, samples, space, problem):
    import optuna
    objective = PROBLEMS[problem][0]
    name = "speed-%d" % n
    server.experiment(name, space, {"kind": "tpe", "result": "loss", "direction": "minimize", "seed": 1})
    import random
    rnd = random.Random(n)
    dists = optuna_distributions(space)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1))
    trials = []
    for _ in range(n):
        params = {k: (rnd.uniform(v.low, v.high)) for k, v in dists.items()}
        value = objective(params)
        server.call("POST", "experiments/%s/jobs/" % name,
                    {"status": "DONE", "hyperparameters": params, "results": {"loss": value}})
        trials.append(optuna.trial.create_trial(params=params, distributions=dists, value=value))
    study.add_trials(trials)
    ours = []
    for _ in range(samples):
        t0 = time.perf_counter()
        status, doc, _ = server.call("GET", "experiments/%s/nextjob/" % name)
        ours.append((time.perf_counter() - t0) * 1000)
        assert status == 200
        server.call("DELETE", "experiments/%s/jobs/%s/" % (name, doc["id"]))
    theirs = []
    for _ in range(max(3, samples // 10)):
        t0 = time.perf_counter()
        study.ask(dists)
        theirs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ours), statistics.median(theirs)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--speed", default="5000,50000")
    ap.add_argument("--speed-samples", type=int, default=30)
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    report = {"optuna": optuna.__version__, "jobs": JOBS, "parallel": PARALLEL, "seeds": args.seeds}
    with tempfile.TemporaryDirectory() as work:
        server = Schedy(os.path.abspath(args.server), work)
        try:
            if not args.skip_quality:
                medians = {}
                for problem, (_, optimum, _) in PROBLEMS.items():
                    for method in ("schedy tpe", "schedy random", "optuna tpe", "optuna random"):
                        regrets = []
                        for seed in range(args.seeds):
                            who, kind = method.split()
                            best = (run_schedy(server, problem, kind, seed) if who == "schedy"
                                    else run_optuna(problem, kind, seed))
                            regrets.append(best - optimum)
                        medians.setdefault(method, {})[problem] = statistics.median(regrets)
                        print("%-10s %-14s median regret %.4g" % (problem, method, medians[method][problem]),
                              file=sys.stderr, flush=True)
                for method, per in medians.items():
                    per["geomean"] = math.exp(statistics.mean(math.log(max(v, 1e-12)) for v in per.values()))
                report["regret"] = medians
            report["speed"] = {}
            for n in [int(x) for x in args.speed.split(",") if x]:
                ours, theirs = speed(server, n, args.speed_samples, PROBLEMS["hartmann6"][2], "hartmann6")
                report["speed"][n] = {"schedy_nextjob_ms": ours, "optuna_ask_ms": theirs}
                print("speed %d DONE jobs: schedy nextjob %.2f ms, optuna ask %.1f ms" % (n, ours, theirs),
                      file=sys.stderr, flush=True)
        finally:
            server.close()
    print(json.dumps(report, indent=2))

if __name__ == "__main__":
    main()
