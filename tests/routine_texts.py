"""Routines over core.echo (on pytest's pythonpath) for the planner's tests and those of
`planactor plan`: the same routine, named in the pack each test installs it under."""

from __future__ import annotations

__all__ = ["ping_array", "send_report"]

_SEND_REPORT = """\
description: Send the status report at a chosen speed.
intent: "Send the report {speed}"
examples: ["send the status report fast", "send the report slowly"]
params:
  speed: {type: string, enum: [slow, fast], description: how fast to send the report}
steps:
  - id: send
    actor: core.echo
    args: {message: {$param: speed}}
"""

_PING_ARRAY = """\
description: Ping an array to see that it answers.
intent: "Ping {array}"
examples: ["ping array-01"]
params:
  array: {type: string, entity: array, description: the array to ping}
steps:
  - id: ping
    actor: core.echo
    args: {message: {$param: array}}
"""


def send_report(pack: str) -> str:
    """The routine `PACK.send_report`: one parameter, `speed`, either slow or fast."""
    return f"name: {pack}.send_report\n{_SEND_REPORT}"


def ping_array(pack: str) -> str:
    """The routine `PACK.ping_array`: one parameter, `array`, an entity of the inventory."""
    return f"name: {pack}.ping_array\n{_PING_ARRAY}"
