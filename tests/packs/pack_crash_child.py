"""Child program of the playbook crash test: runs or resumes a one-step plan whose step is a
declarative ansible actor (not a test module).

`python tests/packs/pack_crash_child.py DB PACK LEDGER MARKER run|resume` prints one JSON
line when the run ends: its status and the step's output. The parent kills it (SIGKILL)
while the playbook runs, once MARKER exists.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from planactor import Catalog, Plan
from planactor.engine import Engine
from planactor.journal import Journal

RUN_ID = "crash-run"


def main(argv: list[str]) -> int:
    db, pack, ledger, marker, mode = argv
    plan = Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "crash test: a playbook killed midway",
            "requested_by": "tests/packs/pack_crash_child.py",
            "steps": [
                {
                    "id": "apply",
                    "actor": "crash.apply",
                    "args": {"ledger": ledger, "marker": marker},
                }
            ],
        }
    )
    catalog = Catalog.discover(builtins=False, packs=[pack])
    with Journal(db, synchronous="FULL") as journal:
        engine = Engine(
            catalog=catalog, journal=journal, resources={"artifacts": Path(db).parent / "runs"}
        )
        result = engine.run(plan, run_id=RUN_ID) if mode == "run" else engine.resume(RUN_ID)
    step = result.steps["apply"]
    print(json.dumps({"status": result.status, "output": step.output, "attempts": step.attempts}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
