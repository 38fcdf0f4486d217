"""Run `planactor bench shortest-path` from a checkout; the benchmark lives in `planactor.bench`."""

import sys

from planactor.bench import run_benchmark

if __name__ == "__main__":
    raise SystemExit(run_benchmark("shortest-path", sys.argv[1:]))
