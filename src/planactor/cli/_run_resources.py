"""What `run` and `resume` hand to the actors: the lab, the journal, and a model for skills.

A skill such as `core.summarize_run` reads the journal and asks a model. It gets its own
connection to the journal file (the engine's connection is busy appending, possibly while
the skill runs on a pool thread), and a model only when the plan holds a skill step, so
that a plan of ordinary actors never loads or even checks one.
"""

from __future__ import annotations

import contextlib

from planactor.catalog import Catalog
from planactor.cli._lab_context import LabContext
from planactor.cli._model_options import SkillModel
from planactor.journal import Journal
from planactor.plan import Plan

__all__ = ["run_resources"]


def run_resources(
    stack: contextlib.ExitStack,
    *,
    plan: Plan,
    catalog: Catalog,
    journal: Journal,
    lab: LabContext | None,
    skills: SkillModel,
) -> dict[str, object]:
    """The run's resources; what must be closed afterwards is registered on `stack`."""
    resources: dict[str, object] = dict(lab.resources) if lab is not None else {}
    # A journal in memory (a dry run's) has no file to open twice: the skill shares it.
    in_memory = journal.path == ":memory:"
    resources["journal"] = journal if in_memory else stack.enter_context(Journal(journal.path))
    if any(s.actor in catalog and catalog.get(s.actor).probabilistic for s in plan.steps):
        resources["llm"] = skills.backend()
    return resources
