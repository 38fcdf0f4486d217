"""Fixtures for the benchmarks' tests: llama.cpp's own OpenAI-compatible server, for real."""

from __future__ import annotations

from llama_server import llama_server as llama_server
