"""The one exception hierarchy of planactor; the exit code lives on each class.

    PlanactorError                 exit 1  base: anything planactor raises on purpose
    ├── InputError                 exit 2  the user gave us something we cannot use
    │   ├── PlanLoadError          exit 2  a plan file is missing, unreadable or not JSON
    │   ├── PlanInvalid            exit 2  a plan failed validation (carries the report)
    │   ├── AmbiguousRoutine       exit 2  several routines fit an intent equally well
    │   │                                  (carries them: a question, not a guess)
    │   ├── CatalogError           exit 2  an actor or pack cannot be loaded, or is unknown
    │   ├── UnknownActor           exit 2  a name is not in the catalog (carries suggestions)
    │   ├── StalePlan              exit 2  lab facts the plan was made from changed since
    │   │                                  (carries the changes); plan again
    │   ├── PlanChanged            exit 2  the plan file is not the one a reviewer was shown
    │   └── LaunchRefused          exit 2  a run started for a reviewer ended before it began
    ├── ApprovalRequired           exit 3  a plan that writes was not approved to run
    ├── BackendError               exit 1  an LLM backend did not answer usably (timeout,
    │                                      server error, garbage); `retryable` says whether
    │                                      another attempt might succeed
    ├── JournalError               exit 1  the journal cannot be read or written, or a run
    │   │                                  cannot go on because its record does not allow it
    │   └── RunBusy                exit 1  another live process is driving the run (its lease)
    └── ActorError                 exit 1  an actor could not do its work; `retryable` says
        │                                  whether the engine may try again
        └── UnexpectedState        exit 4  reality differs from what the plan assumed: the run
                                           pauses for a human or the recovery agent

The command line maps these to exit codes in one place (`planactor.cli`), so bad input
never ends in a traceback. Exit codes are a public contract, see docs/cli.md. Every class is
exported from `planactor`; tests/test_errors.py checks this drawing against the classes, so
a new class is drawn here or the build fails. Packs subclass ActorError for their own errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from planactor.validate import ValidationReport

__all__ = [
    "ActorError",
    "AmbiguousRoutine",
    "ApprovalRequired",
    "BackendError",
    "CatalogError",
    "InputError",
    "JournalError",
    "LaunchRefused",
    "PlanChanged",
    "PlanInvalid",
    "PlanLoadError",
    "PlanactorError",
    "RunBusy",
    "StalePlan",
    "UnexpectedState",
    "UnknownActor",
]


class PlanactorError(Exception):
    """Base of every error planactor raises on purpose."""

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(PlanactorError):
    """The user gave us something we cannot use: usage, a file, a plan, a pack."""

    exit_code = 2


class PlanLoadError(InputError):
    """A plan could not be read or parsed as JSON."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.source = source
        self.line = line
        self.column = column


class PlanInvalid(InputError):
    """A plan failed validation; `report` lists every problem found."""

    def __init__(self, report: ValidationReport, *, source: str | None = None) -> None:
        n = len(report.errors)
        where = f"{source}: " if source else ""
        super().__init__(f"{where}plan is invalid ({n} error{'s' if n != 1 else ''})")
        self.report = report
        self.source = source


class AmbiguousRoutine(InputError):
    """Several routines fit an intent equally well and nothing (no code, no model above its
    margin) decides: `routines` names them, so a person or a program can say which."""

    def __init__(self, message: str, *, routines: tuple[str, ...], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.routines = routines


class CatalogError(InputError):
    """An actor or an actor pack is malformed and was refused."""


class UnknownActor(InputError):
    """A name that is not in the catalog; `suggestions` holds the closest names."""

    def __init__(self, name: str, *, suggestions: tuple[str, ...] = ()) -> None:
        hint = f"did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else None
        super().__init__(f"unknown actor {name!r}", hint=hint or "run `planactor actors`")
        self.name = name
        self.suggestions = suggestions


class StalePlan(InputError):
    """The lab facts the plan was made from (its basis) read differently now; `changes`
    names each one, from what to what. Approvals cannot help: the plan must be made again."""

    def __init__(self, message: str, *, changes: tuple[Any, ...], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        # Each a planactor.plan.FactChange (not named here: the errors sit below the plan).
        self.changes = changes


class PlanChanged(InputError):
    """The plan file no longer has the hash a reviewer was shown (the review console answers
    409): whatever was decided on the old page must not apply to the new file."""


class LaunchRefused(InputError):
    """`planactor run`, started for a reviewer, ended before the run began: its gate
    refused it, or it failed; the message is its own."""


class ApprovalRequired(PlanactorError):
    """A plan with write steps needs an approval (for now: `--yes` or a confirmation)."""

    exit_code = 3


class BackendError(PlanactorError):
    """An LLM backend did not answer usably: timeout, connection, server error, garbage.

    `retryable` says whether another attempt might succeed; `complete` has already made its
    bounded retries when this reaches a caller.
    """

    def __init__(
        self, message: str, *, backend: str, hint: str | None = None, retryable: bool = False
    ) -> None:
        super().__init__(message, hint=hint)
        self.backend = backend
        self.retryable = retryable


class JournalError(PlanactorError):
    """The journal cannot be opened or written, or its record forbids what was asked."""


class RunBusy(JournalError):
    """Another live process holds the run's lease, or wrote to the run under this one."""


class ActorError(PlanactorError):
    """An actor failed. `retryable` tells the engine whether another attempt may succeed."""

    retryable: bool = True

    def __init__(
        self, message: str, *, hint: str | None = None, retryable: bool | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        if retryable is not None:
            # An instance may override its class, e.g. a transient error known to be final.
            self.retryable = retryable


class UnexpectedState(ActorError):
    """Reality differs from what the plan assumed; retrying cannot help, a decision is needed."""

    exit_code = 4
    retryable = False
