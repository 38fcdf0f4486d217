"""Labelled sets shipped with planactor: `planner.yaml` is the planner eval
(`planactor eval planner`), a copy of `evals/planner.yaml` in the source tree."""
