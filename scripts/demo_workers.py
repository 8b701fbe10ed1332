#!/usr/bin/env python3
"""Demo workers for Schedy, standard library only.

Creates an experiment (random search or PBT) on the server of a client config
and runs worker threads that train a toy model, reporting a loss curve per
epoch, the way the original Python client's workers do (nextjob, claim with
If-Match, report, DONE). Used for screenshots and the worked examples.

  demo_workers.py --config ~/.schedy/client.json --experiment "MNIST random" \
      --kind random --jobs 200 --workers 4 --epoch-seconds 0
"""
import argparse
import json
import math
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


class Schedy:
    def __init__(self, config):
        self.root = config["root"].rstrip("/") + "/"
        self.config = config
        self.bearer = None
        self.lock = threading.Lock()

    def _login(self):
        path = "passauth/" if self.config.get("token_type") == "password" else "token/"
        body = json.dumps({"email": self.config["email"], "token": self.config["token"]}).encode()
        with urllib.request.urlopen(urllib.request.Request(self.root + path, body, method="POST")) as r:
            self.bearer = json.load(r)["token"]

    def request(self, method, path, body=None, headers=None):
        with self.lock:
            if self.bearer is None:
                self._login()
        h = {"Authorization": "Bearer " + self.bearer}
        h.update(headers or {})
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.root + path, data, h, method=method)
        try:
            with urllib.request.urlopen(req) as r:
                text = r.read()
                return r.status, (json.loads(text) if text else None), r.headers.get("ETag")
        except urllib.error.HTTPError as e:
            return e.code, None, None


def q(name):
    return urllib.parse.quote(name, safe="")


def toy_loss(hp, epoch):
    lr = hp.get("learning_rate", 0.01)
    dropout = hp.get("dropout", 0.2)
    layers = hp.get("layers", 2)
    best = 0.15 + 0.4 * abs(math.log10(lr) + 2.5) / 3 + 0.3 * abs(dropout - 0.3) + 0.05 * abs(layers - 3)
    return best + 2.0 * math.exp(-0.35 * (epoch + 1) * (1 + 3 * lr)) + random.gauss(0, 0.01)


def worker(api, exp, epochs, epoch_seconds, stop, done_counter, limit, pbt):
    while not stop.is_set():
        with done_counter["lock"]:
            if limit and done_counter["n"] >= limit:
                return
            done_counter["n"] += 1
        status, job, etag = api.request("GET", "experiments/%s/nextjob/" % q(exp))
        if status != 200:
            return
        job["status"] = "RUNNING"
        body = {k: job[k] for k in ("status", "hyperparameters", "results")}
        status, _, etag = api.request("PUT", "experiments/%s/jobs/%s/" % (q(exp), q(job["id"])), body, {"If-Match": etag})
        if status != 200:
            with done_counter["lock"]:
                done_counter["n"] -= 1
            continue
        hp = job["hyperparameters"]
        results = dict(job.get("results") or {})
        start = len(results.get("loss", [])) if pbt else 0
        losses = list(results.get("loss", [])) if pbt else []
        for epoch in range(start, start + epochs):
            losses.append(round(toy_loss(hp, epoch), 5))
            results["loss"] = losses
            results["accuracy"] = round(max(0.0, 1 - losses[-1] / 2.5), 5)
            body["results"] = results
            if epoch_seconds:
                time.sleep(epoch_seconds)
                status, _, etag = api.request("PUT", "experiments/%s/jobs/%s/" % (q(exp), q(job["id"])), body, {"If-Match": etag})
            if stop.is_set():
                return
        results["best_loss"] = min(losses)
        results["checkpoint"] = "models/%s.pt" % job["id"]
        body["results"] = results
        body["status"] = "DONE"
        api.request("PUT", "experiments/%s/jobs/%s/" % (q(exp), q(job["id"])), body, {"If-Match": etag})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True)
    p.add_argument("--experiment", required=True)
    p.add_argument("--kind", choices=["random", "pbt"], default="random")
    p.add_argument("--jobs", type=int, default=200, help="jobs to finish (0: until stopped)")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--epoch-seconds", type=float, default=0.0)
    p.add_argument("--population", type=int, default=8)
    p.add_argument("--generations", type=int, default=10)
    p.add_argument("--seconds", type=float, default=0, help="stop after this long (0: when the jobs are done)")
    a = p.parse_args()
    api = Schedy(json.load(open(a.config)))
    if a.kind == "random":
        scheduler = {"RandomSearch": {
            "learning_rate": {"loguniform": {"low": 1e-5, "high": 0.3}},
            "dropout": {"uniform": {"low": 0.0, "high": 0.7}},
            "layers": {"choice": {"values": [1, 2, 3, 4, 5]}},
            "optimizer": {"choice": {"values": ["adam", "sgd", "rmsprop"], "weights": [3, 1, 1]}},
            "batch_size": {"const": 64}}}
    else:
        scheduler = {"PBT": {
            "objective": "min", "qualityResultName": "best_loss", "numParallel": a.population,
            "maxGenerations": a.generations, "exploit": {"truncate": 0.25},
            "init": {"learning_rate": {"loguniform": {"low": 1e-4, "high": 0.1}},
                     "dropout": {"uniform": {"low": 0.0, "high": 0.6}},
                     "layers": {"choice": {"values": [2, 3, 4]}}},
            "explore": {"learning_rate": {"perturb": {"minFactor": 0.8, "maxFactor": 1.25}},
                        "dropout": {"perturb": {"minFactor": 0.8, "maxFactor": 1.25}}}}}
    api.request("PUT", "experiments/%s/" % q(a.experiment), {"status": "RUNNING", "scheduler": scheduler})
    stop = threading.Event()
    counter = {"n": 0, "lock": threading.Lock()}
    threads = [threading.Thread(target=worker, args=(api, a.experiment, a.epochs if a.kind == "random" else 2,
                                                     a.epoch_seconds, stop, counter, a.jobs, a.kind == "pbt"))
               for _ in range(a.workers)]
    for t in threads:
        t.start()
    try:
        if a.seconds:
            time.sleep(a.seconds)
            stop.set()
        for t in threads:
            t.join()
    except KeyboardInterrupt:
        stop.set()


if __name__ == "__main__":
    main()
