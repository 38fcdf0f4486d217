"""The `core` pack: small, dependable actors for tests, demos and glue."""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from planactor.catalog import ActorContext, actor


class EchoInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(description="Returned unchanged.")
    value: JsonValue = Field(default=None, description="Any JSON value, returned unchanged.")


class EchoOutput(BaseModel):
    message: str
    value: JsonValue = None


@actor(name="core.echo", effect="read")
def echo(args: EchoInput, ctx: ActorContext) -> EchoOutput:
    """Return the message and value it was given."""
    ctx.logger.debug("echo %s", args.message)
    return EchoOutput(message=args.message, value=args.value)


class SleepInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(ge=0, le=3600, description="How long to wait.")


class SleepOutput(BaseModel):
    slept_s: float = Field(description="Measured wall-clock time asleep.")


@actor(name="core.sleep", effect="read")
def sleep(args: SleepInput) -> SleepOutput:
    """Wait for a number of seconds (for timeouts, pacing and crash tests)."""
    start = time.monotonic()
    time.sleep(args.seconds)
    return SleepOutput(slept_s=time.monotonic() - start)
