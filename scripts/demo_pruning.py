#!/usr/bin/env python3
"""Seeds an experiment that shows early stopping and lost workers (standard library only).

A random search with an ASHA pruner on its loss curve and a short lease: jobs
report their curve one step at a time until the server prunes them (header
Schedy-Job-Status: PRUNED) or they finish; one worker claims a job and goes
silent, so the server declares it lost and queues a replacement, which the
next worker finishes. Used for docs/screenshots/curves-pruned.png.

  demo_pruning.py --config ~/.local/share/schedy/schedy/local-client.json \
      --experiment "ASHA demo" --jobs 24
"""
import argparse
import json
import math
import os
import random
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_workers import Schedy, q  # noqa: E402


def put(api, exp, job_id, body, etag):
    """A PUT that also returns the Schedy-Job-Status header."""
    with api.lock:
        if api.bearer is None:
            api._login()
    req = urllib.request.Request(api.root + "experiments/%s/jobs/%s/" % (q(exp), q(job_id)),
                                 json.dumps(body).encode(),
                                 {"Authorization": "Bearer " + api.bearer, "If-Match": etag}, method="PUT")
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.headers.get("ETag"), r.headers.get("Schedy-Job-Status")
    except urllib.error.HTTPError as e:
        return e.code, None, e.headers.get("Schedy-Job-Status")


def loss_at(hp, step):
    lr, dropout = hp["learning_rate"], hp["dropout"]
    final = 0.2 + 0.35 * abs(math.log10(lr) + 2.3) + 0.4 * abs(dropout - 0.25)
    return round(final + (0.6 + 2 * dropout) * math.exp(-step / (3 + 40 * lr)) + random.gauss(0, 0.004), 5)


def claim(api, exp):
    status, job, etag = api.request("GET", "experiments/%s/nextjob/" % q(exp))
    if status != 200:
        return None, None
    body = {"status": "RUNNING", "hyperparameters": job["hyperparameters"], "results": job.get("results") or {}}
    status, etag, _ = put(api, exp, job["id"], body, etag)
    return (job, etag) if status == 200 else (None, None)


def train(api, exp, job, etag, steps):
    body = {"status": "RUNNING", "hyperparameters": job["hyperparameters"], "results": {}}
    curve = []
    for step in range(1, steps + 1):
        curve.append(loss_at(job["hyperparameters"], step))
        body["results"] = {"loss": curve}
        status, etag, stopped = put(api, exp, job["id"], body, etag)
        if stopped == "PRUNED" or status != 200:
            return "pruned at %d" % step
    body["status"] = "DONE"
    put(api, exp, job["id"], body, etag)
    return "done"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True)
    p.add_argument("--experiment", required=True)
    p.add_argument("--jobs", type=int, default=24)
    p.add_argument("--steps", type=int, default=27)
    p.add_argument("--lease", type=int, default=2, help="lease seconds (the silent worker's job is lost after it)")
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    random.seed(a.seed)
    api = Schedy(json.load(open(a.config)))
    status, _, _ = api.request("PUT", "experiments/%s/" % q(a.experiment), {
        "status": "RUNNING",
        "scheduler": {"RandomSearch": {"learning_rate": {"loguniform": {"low": 1e-4, "high": 0.1}},
                                       "dropout": {"uniform": {"low": 0.0, "high": 0.6}}}},
        "pruner": {"kind": "asha", "result": "loss", "direction": "minimize", "minSteps": 2, "reductionFactor": 3},
        "lease": {"seconds": a.lease, "retries": 1}})
    if status not in (200, 201):
        sys.exit("could not create the experiment: HTTP %d" % status)
    for n in range(a.jobs):
        job, etag = claim(api, a.experiment)
        if job is None:
            sys.exit("no job handed out")
        if n == a.jobs // 2:
            # This worker dies right after its claim: no report, no heartbeat.
            print("%s: silent from now on" % job["id"])
            deadline = time.time() + a.lease + 30
            while time.time() < deadline:
                _, doc, _ = api.request("GET", "experiments/%s/jobs/%s/" % (q(a.experiment), q(job["id"])))
                if doc and doc.get("replacedBy"):
                    print("%s: lost, replaced by %s" % (job["id"], doc["replacedBy"]))
                    break
                time.sleep(0.5)
            continue
        print("%s: %s" % (job["id"], train(api, a.experiment, job, etag, a.steps)))


if __name__ == "__main__":
    main()
