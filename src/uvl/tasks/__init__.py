"""Tasks: what a method's result is, which data it trains on, and how it is scored.

A method module declares its task (`TASK = "clustering"`); its params schema takes the task's fields
(`Fields`: which dataset or datasets, which labels). The task decides

- which views of the data training gets (`views`, through uvl.data.protocol),
- the stage after training (`STEP`: `cluster` writes cluster assignments, `predict` writes predicted
  classes of the scored splits), and what the evaluate stage computes from its outputs (`uvl.eval.<task>`'s
  `evaluate`),
- the metrics schema (`Scores`, a pydantic model: the keys of `metrics/<method>/<row>.json`) and the
  report's table for the task (`COLUMNS`, `PROTOCOL`).

    clustering      all images, no labels; Hungarian-matched clustering accuracy (`cluster_acc`)
    classification  labelled training images; plain accuracy on the test split (`test_accuracy`)
    adaptation      labelled source, unlabelled target; plain accuracy on the target's test split
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pydantic import BaseModel, ConfigDict

from uvl.errors import UvlError

NAMES = ("clustering", "classification", "adaptation")


class Scores(BaseModel):
    """Base of every task's metrics schema: the scores of one row, and how its settings were chosen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    selected_on: str  # how the method's settings were chosen: label-free, a validation slice, or which seeds


def get(name: str) -> ModuleType:
    if name not in NAMES:
        raise UvlError(f"unknown task '{name}'; known tasks: {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")


def of(method: ModuleType) -> ModuleType:
    """The task module of a method module."""
    return get(method.TASK)
