"""Example plans shipped with the package (used by `planactor demo` and the docs)."""

from __future__ import annotations

from importlib.resources import files

__all__ = ["example_plan_bytes"]


def example_plan_bytes(name: str = "fabric-path") -> bytes:
    return files(__name__).joinpath(f"{name}.json").read_bytes()
