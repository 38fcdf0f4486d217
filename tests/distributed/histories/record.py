"""Record the workflow histories that tests/distributed/test_replay.py replays.

Run `python tests/distributed/histories/record.py` after a deliberate, compatible change of
the interpreter's history (and say why in the commit); never to make a failing replay pass:
a failing replay means running workflows would break on the new code.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from temporal_helpers import plan_of, plans, run_temporal  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from planactor.distributed import dev_server_path, workflow_id  # noqa: E402
from planactor.journal import Journal  # noqa: E402


async def _histories(address: str, names: list[str]) -> None:
    from planactor.distributed import connect

    client = await connect(address)
    for name in names:
        history = await client.get_workflow_handle(workflow_id(name)).fetch_history()
        (HERE / f"{name}.json").write_text(history.to_json() + "\n")


def main() -> None:
    loop = asyncio.new_event_loop()
    env = loop.run_until_complete(
        WorkflowEnvironment.start_local(dev_server_existing_path=str(dev_server_path()))
    )
    address = env.client.service_client.config.target_host
    try:
        with tempfile.TemporaryDirectory() as d:
            docs = plans(Path(d))
            names = ["chain", "fan-out", "retry", "compensated"]
            with Journal(Path(d) / "j.db", create=True) as journal:
                for name in names:
                    run_temporal(address, plan_of(docs[name]), journal, name,
                                 parallel=3 if name == "fan-out" else 1)  # fmt: skip
            loop.run_until_complete(_histories(address, names))
    finally:
        loop.run_until_complete(env.shutdown())
        loop.close()


if __name__ == "__main__":
    main()
