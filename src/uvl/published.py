"""Published figures that our rows are compared with: each method module lists its own as `PUBLISHED`, and the
reports put them beside our scores. A part of its own, so that methods and reports both depend on it and
neither on the other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Published:
    """A figure from a paper, poster or notes that a row of ours is compared with."""

    row: str  # the row it applies to (a method or one of its variants)
    value: float  # a fraction, in the task's headline score (clustering: cluster_acc; classification: test_accuracy)
    source: str
    note: str = ""
    # params of the method's section under which the figure applies ("labels.per_class": 100); empty: always
    when: dict[str, Any] = field(default_factory=dict)

    def applies(self, section: dict[str, Any]) -> bool:
        """Whether the section's params (a nested mapping) hold every value of `when`."""
        for path, value in self.when.items():
            node = section
            for key in path.split("."):
                node = node.get(key) if isinstance(node, dict) else None
            if node != value:
                return False
        return True
