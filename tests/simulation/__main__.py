"""`make simulate`: run seeds for as long as asked, report steps per second and the faults
injected, and on a failure print the seed, the step and the log, and shrink it.

    python -m tests.simulation --seed 7 --steps 2000          # one seed
    python -m tests.simulation --seed 1 --seeds 50 --steps 400
    python -m tests.simulation --seed 7 --steps 2000 --plant counters_unchecked
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter

from tests.simulation import planted, runner


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.simulation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=1, help="how many seeds from --seed on")
    parser.add_argument("--steps", type=int, default=400, help="operations per seed")
    parser.add_argument("--plant", choices=sorted(planted.PLANTED), help="plant a known bug")
    parser.add_argument("--no-shrink", action="store_true", help="do not shrink a failure")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # injected faults make the platform log errors
    plant = planted.PLANTED[args.plant] if args.plant else None
    began, steps, faults = time.monotonic(), 0, Counter[str]()
    for seed in range(args.seed, args.seed + args.seeds):
        outcome = runner.simulate(seed, args.steps, plant=plant)
        steps += outcome.steps
        faults.update(outcome.faults)
        print(f"seed {seed}: {outcome.steps} steps in {outcome.seconds:.1f} s, "
              f"{'FAILED' if outcome.failed else 'ok'}", flush=True)
        if outcome.failed:
            print(outcome.report())
            if not args.no_shrink:
                shrunk = runner.shrink(outcome, plant=plant)
                print(f"\nshrunk to {len(shrunk.ops)} operations, failing with: "
                      f"{shrunk.failure}")
                print("\n".join(shrunk.log))
            return 1
    seconds = time.monotonic() - began
    print(f"{args.seeds} seeds x {args.steps} steps: {steps} steps in {seconds:.1f} s, "
          f"{steps / seconds:.1f} steps per second; faults injected: "
          f"{dict(sorted(faults.items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
