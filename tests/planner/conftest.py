"""Servers for the planner's backend tests: llama.cpp's own OpenAI-compatible server, for
real, and fake HTTP servers (llm_fakes) that answer what a test tells them to."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from llm_fakes import FakeServer, Responder, start_fake_server

# The session fixture lives in tests/llama_server.py: the benchmarks' tests share it.
from llama_server import llama_server as llama_server


@pytest.fixture
def fake_server() -> Iterator[Callable[[Responder], FakeServer]]:
    """Start fake HTTP servers that reply as told (llm_fakes); stopped after the test."""
    stops: list[Callable[[], None]] = []

    def start(respond: Responder) -> FakeServer:
        fake, stop = start_fake_server(respond)
        stops.append(stop)
        return fake

    yield start
    for stop in stops:
        stop()
