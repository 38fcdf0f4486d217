"""Engine overhead per step next to LangGraph: `planactor bench engine` from a checkout.

The benchmark lives in the package (`planactor.bench`) so that an installed planactor can
measure itself; see that module for what is timed and the targets.
"""

import sys

from planactor.bench import run_benchmark

if __name__ == "__main__":
    raise SystemExit(run_benchmark("engine", sys.argv[1:]))
