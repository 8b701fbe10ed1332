#!/usr/bin/env python3
"""A toy training program for `schedy run` (Python standard library only).

It "trains" a two-parameter model by gradient descent with momentum on a
narrow valley, f(w) = (w0 - 3)^2 + 10 (w1 + 1)^2, with gradient noise that
shrinks with the batch size. Hyperparameters come as a JSON object (schedy's
%h); a PBT interval also gets the results it continues from (%r), whose "w" is
the checkpoint. After every epoch it prints a results block, which
`schedy run` reports at once while the job runs:

    --- RESULTS ---
    {"loss": 1.25, "loss_curve": [9.1, 3.2, 1.25], "epoch": 3}
    --- END RESULTS ---

    schedy run EXP python3 examples/toy_objective.py %h %r

A learning rate too large for the valley diverges: the program then reports
the loss as NaN and exits with status 1, so the job ends CRASHED.
"""
import argparse
import json
import math
import random
import sys
import time


def loss_of(w):
    return (w[0] - 3.0) ** 2 + 10.0 * (w[1] + 1.0) ** 2


def gradient(w):
    return [2.0 * (w[0] - 3.0), 20.0 * (w[1] + 1.0)]


def results_block(values):
    print("--- RESULTS ---")
    print(json.dumps(values))
    print("--- END RESULTS ---", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hyperparameters", help="JSON object: lr, momentum, batch")
    parser.add_argument("results", nargs="?", default="{}",
                        help="JSON object: the results this job starts from (PBT)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10, help="gradient steps per epoch")
    parser.add_argument("--sleep", type=float, default=0.1, help="seconds per epoch, to watch it happen")
    args = parser.parse_args()

    hp = json.loads(args.hyperparameters)
    start = json.loads(args.results)
    lr = float(hp.get("lr", 0.01))
    momentum = float(hp.get("momentum", 0.0))
    batch = int(hp.get("batch", 32))

    w = list(start.get("w", [-4.0, 4.0]))  # the checkpoint, or the initial weights
    velocity = [0.0, 0.0]
    curve = list(start.get("loss_curve", []))
    rng = random.Random()
    noise = 2.0 / math.sqrt(batch)

    for epoch in range(1, args.epochs + 1):
        for _ in range(args.steps):
            g = gradient(w)
            for i in range(2):
                velocity[i] = momentum * velocity[i] - lr * (g[i] + rng.gauss(0.0, noise))
                w[i] += velocity[i]
        loss = loss_of(w)
        if not math.isfinite(loss) or loss > 1e6:
            print("epoch %d: diverged" % epoch)
            results_block({"loss": float("nan"), "epoch": len(curve) + 1})
            return 1
        curve.append(round(loss, 6))
        print("epoch %d: loss %.4f" % (len(curve), loss))
        results_block({"loss": loss, "loss_curve": curve, "epoch": len(curve)})
        time.sleep(args.sleep)

    # The final block adds the checkpoint that a PBT continuation starts from.
    results_block({"loss": loss, "w": w, "epochs": len(curve)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
