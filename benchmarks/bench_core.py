"""A default run of this checkout's model against another commit's, side by side (a ratio).

    python benchmarks/bench_core.py [--against REV] [--repeat N]

The model core's budget: a default run (240 months, 5,000 customers) may cost at most 1.5
times the run of the commit before the core's rewrite. Both models run in their own
interpreter, in turns (A, B, A, B, ...), each timing its best of ``repeat`` runs in CPU
seconds of its own process, so a loaded machine slows both alike; the other commit is checked
out into a temporary git worktree, removed at the end. Prints both figures and the ratio.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE_REWRITE = "82d95c3"
"""The last commit of the first model core (its month as measured before the rewrite)."""
BUDGET = 1.5

PROBE = """
import sys, time
sys.path.insert(0, {root!r})
from simulation import OrgModel
OrgModel(rng=0).run(240).summary()
best = float("inf")
for seed in range({repeat}):
    start = time.process_time()
    OrgModel(rng=seed).run(240).summary()
    best = min(best, time.process_time() - start)
print(best)
"""


def best_seconds(root: Path, repeat: int) -> float:
    """The best CPU seconds of a default run of the model in ``root`` (a fresh interpreter)."""
    out = subprocess.run([sys.executable, "-c", PROBE.format(root=str(root), repeat=repeat)],
                         check=True, capture_output=True, text=True, cwd=root)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=BEFORE_REWRITE, help="the commit to compare with")
    parser.add_argument("--repeat", type=int, default=10, help="runs per turn (best taken)")
    parser.add_argument("--turns", type=int, default=3, help="turns per side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        other = Path(tmp) / "other"
        subprocess.run(["git", "worktree", "add", "--detach", str(other), args.against],
                       check=True, cwd=ROOT, capture_output=True)
        try:
            ours, theirs = [], []
            for _ in range(args.turns):
                ours.append(best_seconds(ROOT, args.repeat))
                theirs.append(best_seconds(other, args.repeat))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT,
                           capture_output=True)
    now, before = min(ours), min(theirs)
    ratio = now / before
    print(f"default run, CPU s (best of {args.turns} x {args.repeat}): this checkout "
          f"{now:.4f}, {args.against} {before:.4f}: {ratio:.2f}x "
          f"(budget <= {BUDGET}x: {'met' if ratio <= BUDGET else 'NOT met'})")
    return 0 if ratio <= BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
