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
    # or in `score`
    source: str
    note: str = ""
    # params of the method's section under which the figure applies ("labels.per_class": 100); empty: always
    when: dict[str, Any] = field(default_factory=dict)
    # the score it is in when not the task's headline: a probe of an encoder's features ("linear_probe_acc",
    # "knn_acc"), which reports/encoders.md compares; "": the headline, which the other reports compare
    score: str = ""

    @property
    def is_headline(self) -> bool:
        return not self.score

    def applies(self, section: dict[str, Any]) -> bool:
        """Whether the section's params (a nested mapping) hold every value of `when`."""
        for path, value in self.when.items():
            node = section
            for key in path.split("."):
                node = node.get(key) if isinstance(node, dict) else None
            if node != value:
                return False
        return True


@dataclass(frozen=True)
class PublishedGrid:
    """A published grid of a method's headline score over two of its params (an ablation), which the
    ablation report (uvl.reports.ablation) prints beside ours when its axes are the same two params."""

    row_param: str  # a dotted path inside the method's section, e.g. "momentum"
    column_param: str
    cells: dict[tuple[Any, Any], float]  # (row value, column value) -> the headline score, a fraction
    source: str
    note: str = ""
    # the cells where the method fails, by the source (cell -> how: "every image one class"); the report then
    # says row by row whether ours fails there too, against the best published cell that is not a failure
    failures: dict[tuple[Any, Any], str] = field(default_factory=dict)

    def oriented(self, rows: str, columns: str) -> dict[tuple[Any, Any], float] | None:
        """The cells keyed (value of `rows`, value of `columns`): transposed when the axes are the other way
        round; None when the grid's axes are not these two params."""
        return self._oriented(self.cells, rows, columns)

    def oriented_failures(self, rows: str, columns: str) -> dict[tuple[Any, Any], str] | None:
        """`failures`, keyed as `oriented` keys the cells."""
        return self._oriented(self.failures, rows, columns)

    def _oriented(self, cells: dict, rows: str, columns: str) -> dict | None:
        if (rows, columns) == (self.row_param, self.column_param):
            return dict(cells)
        if (rows, columns) == (self.column_param, self.row_param):
            return {(column, row): value for (row, column), value in cells.items()}
        return None
