#!/usr/bin/env python3
"""The worker of worker.py (written from docs/protocol.md alone) drives a
random search and a PBT experiment to DONE against a real schedy-server, four
workers at a time.

    tst_python_worker.py SCHEDY_SERVER_BINARY
"""

import math
import sys
import threading
import time

from server_fixture import Server
from worker import Client, HttpError, Worker

WORKERS = 4


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def run_workers(target):
    errors = []

    def guarded():
        try:
            target()
        except BaseException as e:  # noqa: B902 - reported below, on the main thread
            errors.append(e)

    threads = [threading.Thread(target=guarded, daemon=True) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
        check(not t.is_alive(), "a worker did not finish within 300 s")
    if errors:
        raise errors[0]


def random_search(client):
    name = "random search/über"  # a '/' and non-ASCII: one percent-encoded path segment
    client.put_experiment(name, {"status": "RUNNING", "scheduler": {"RandomSearch": {
        "x": {"uniform": {"low": -5.0, "high": 5.0}},
        "lr": {"loguniform": {"low": 1e-05, "high": 0.1}},
        "layers": {"choice": {"values": [1, 2, 3]}},
        "optimizer": {"const": {"name": "sgd"}}}}}, create_only=True)
    try:
        client.put_experiment(name, {"status": "RUNNING", "scheduler": {"Manual": None}}, create_only=True)
        check(False, "If-None-Match: * on an existing experiment must answer 412")
    except HttpError as e:
        check(e.status == 412, "expected 412, got %d" % e.status)

    def train(hp, results, report):
        curve = []
        for epoch in range(3):
            curve.append(hp["x"] ** 2 / (epoch + 1))
            report({"loss": curve})
        return {"loss": curve, "final": curve[-1]}

    wanted, lock, started = 24, threading.Lock(), [0]

    def work():
        worker = Worker(client, name, train)
        while True:
            with lock:
                if started[0] >= wanted:
                    return
                started[0] += 1
            check(worker.run_one(), "a random search always has a job to hand out")

    run_workers(work)

    # A random search ends when someone says so; then nothing is handed out.
    client.put_experiment(name, {"status": "DONE", "scheduler": client.get_experiment(name)["scheduler"]})
    status, _, _ = client.request("GET", client.experiment_path(name) + "nextjob/")
    check(status == 204, "a DONE experiment must hand out nothing, got %d" % status)

    jobs = client.jobs(name, limit=5)  # several pages
    check(len(jobs) == wanted, "expected %d jobs, got %d" % (wanted, len(jobs)))
    check(len({j["id"] for j in jobs}) == wanted, "job ids must be unique")
    for j in jobs:
        hp = j["hyperparameters"]
        check(j["status"] == "DONE", "job %s is %s" % (j["id"], j["status"]))
        check(-5.0 <= hp["x"] < 5.0 and 1e-05 <= hp["lr"] < 0.1, "out of range: %r" % hp)
        check(hp["layers"] in (1, 2, 3) and hp["optimizer"] == {"name": "sgd"}, "bad draw: %r" % hp)
        check(len(j["results"]["loss"]) == 3 and j["results"]["final"] == j["results"]["loss"][-1],
              "results not stored as reported: %r" % j["results"])
    counts = client.get_experiment(name)["jobCounts"]
    check(counts["DONE"] == wanted and counts["QUEUED"] == 0 and counts["RUNNING"] == 0,
          "jobCounts: %r" % counts)
    print("random search: %d jobs DONE by %d workers" % (wanted, WORKERS))


def pbt(client):
    name = "pbt"
    population, generations = 4, 3
    created = client.put_experiment(name, {"status": "RUNNING", "scheduler": {"PBT": {
        "objective": "max", "qualityResultName": "score", "numParallel": population,
        "init": {"lr": {"loguniform": {"low": 0.001, "high": 0.1}}},
        "exploit": {"truncate": 0.25},
        "explore": {"lr": {"perturb": {"minFactor": 0.8, "maxFactor": 1.2}}},
        "maxGenerations": generations}}})
    check(created["scheduler"]["PBT"]["max_generations"] == generations, "max_generations is returned")

    def train(hp, results, report):
        # Results are copied from the source job: they carry the "checkpoint".
        history = results.get("history", []) + [hp["lr"]]
        score = results.get("score", 0.0) + math.log(hp["lr"])
        report({"history": history})
        return {"history": history, "score": score}

    def work():
        worker = Worker(client, name, train)
        while True:
            if worker.run_one():
                continue
            # 204: the other members are busy, or the population is finished.
            if client.get_experiment(name)["status"] == "DONE":
                return
            time.sleep(0.02)

    run_workers(work)

    experiment = client.get_experiment(name)
    check(experiment["status"] == "DONE", "PBT with maxGenerations must end DONE")
    jobs = {j["id"]: j for j in client.jobs(name)}
    check(len(jobs) == population * generations,
          "a population of %d with %d generations runs %d jobs, got %d" %
          (population, generations, population * generations, len(jobs)))
    for j in jobs.values():
        g = j["generation"]
        check(j["status"] == "DONE", "job %s is %s" % (j["id"], j["status"]))
        # The source (parent) may be another member at another generation (exploit).
        source_history = jobs[j["parent"]]["results"]["history"] if g > 0 else []
        check(j["results"]["history"] == source_history + [j["hyperparameters"]["lr"]],
              "a job starts from its parent's results: %r" % j)
        check(jobs[j["member"]]["generation"] == 0, "member of %s is a generation-0 job" % j["id"])
    for g in range(generations):
        n = sum(1 for j in jobs.values() if j["generation"] == g)
        check(n == population, "generation %d has %d jobs, expected %d" % (g, n, population))
    print("PBT: %d members x %d generations DONE by %d workers" % (population, generations, WORKERS))


def main():
    with Server(sys.argv[1]) as server:
        client = Client(server.add_user("worker@example.com") | {"root": server.root})
        random_search(client)
        pbt(client)


if __name__ == "__main__":
    main()
