"""Run planactor commands over hostile files in one process and report what each did.

`python run_corpus.py SPEC.json` reads a list of cases (`argv`, `watch`: paths that must not
change, `env`: variables for that command) and the home to use, and runs each case in this
process (planactor.testing.CliRunner, or `@routine FILE` for the routine parser). It prints
one JSON document: per case its exit code, the start of what it printed on stderr, the
watched paths that changed, and the process's peak resident memory after it (`resource`), so
the caller can tell which case grew it. A case that runs longer than the alarm is a hang.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import stat
import sys
from pathlib import Path
from typing import Any

ALARM_S = 30


class Hang(BaseException):
    """Raised by the alarm: a command blocked (a FIFO opened without O_NONBLOCK)."""


def _alarm(signum: int, frame: object) -> None:
    raise Hang


def _fingerprint(path: Path) -> str:
    """A regular file's hash, a directory's listing of fingerprints, or a special file's
    identity (never opened: a FIFO would block)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return "absent"
    if stat.S_ISLNK(st.st_mode):
        return f"link:{os.readlink(path)}"
    if stat.S_ISDIR(st.st_mode):
        return json.dumps({p.name: _fingerprint(p) for p in sorted(path.iterdir())})
    if not stat.S_ISREG(st.st_mode):
        return f"special:{st.st_mode}:{st.st_ino}"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _routine(file: str) -> tuple[int, str]:
    from planactor import InputError
    from planactor._reader import LIMITS, read_text
    from planactor.catalog import parse_routine

    try:
        parse_routine(read_text(file, what="routine", max_bytes=LIMITS.routine), source=file)
    except InputError as e:  # CatalogError is one
        return e.exit_code, f"error: {e.message}"
    except Exception as e:  # what the suite is here to catch
        return 1, f"internal error: {type(e).__name__}: {e}"
    return 0, ""


def _peak_rss_mb() -> float:
    """This program's peak resident memory. VmHWM, not ru_maxrss: Linux carries a forked
    parent's high-water mark over exec into ru_maxrss, so a child of a large test process
    would report the parent's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    os.environ["PLANACTOR_HOME"] = spec["home"]
    from planactor.testing import CliRunner

    runner = CliRunner(home=spec["home"])
    signal.signal(signal.SIGALRM, _alarm)
    results: list[dict[str, Any]] = []
    for case in spec["cases"]:
        watch = [Path(p) for p in case["watch"]]
        before = {str(p): _fingerprint(p) for p in watch}
        signal.alarm(ALARM_S)
        try:
            if case["argv"][0] == "@routine":
                code, err = _routine(case["argv"][1])
                said = err
            else:
                result = runner.run(*case["argv"], env=case.get("env"))
                code, err = result.exit_code, result.stderr
                said = result.stderr + result.stdout
        except Hang:
            code, err = -1, f"hang: no answer within {ALARM_S} s"
            said = err
        finally:
            signal.alarm(0)
        changed = [p for p, fp in before.items() if _fingerprint(Path(p)) != fp]
        rss_mb = _peak_rss_mb()
        results.append(
            {
                **case,
                "code": code,
                "stderr": err[:400],
                "said": bool(said.strip()),
                "changed": changed,
                "rss": rss_mb,
            }
        )
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
