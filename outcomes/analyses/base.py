"""What an analysis is: a name, its parameters, what it reads, and a pure compute step."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from outcomes.analyses.parameters import Parameter, normalise
from outcomes.selectors import CohortData

Progress = Callable[[float], None]  # fraction done, 0..1


def no_progress(fraction: float) -> None:
    """The progress callback of a caller that does not report progress."""


@dataclass(frozen=True)
class Analysis:
    name: str
    label: str
    description: str
    compute: Callable[[CohortData, dict[str, Any], Progress], dict[str, Any]]
    # What the compute step reads from CohortData, in the order it needs them: the first
    # is read before computing starts, the rest (and the data version) behind it. All come
    # from one database snapshot, so the data version describes exactly those rows.
    reads: tuple[str, ...]
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    # The stored body -> printable sections (outcomes.presenters): the analysis owns it.
    present: Callable[[Mapping[str, Any]], list[Any]] = lambda body: []

    def normalise(self, raw: Mapping[str, Any] | None) -> dict[str, Any]:
        return normalise(self.parameters, raw)

    def load(self, data: CohortData) -> None:
        first, *later = self.reads
        data.read([first], behind=[*later, "version"])

    def run(
        self, data: CohortData, parameters: Mapping[str, Any], progress: Progress = no_progress
    ) -> dict[str, Any]:
        """Read (if not read yet) and compute; parameters are normalised first."""
        self.load(data)
        return self.compute(data, self.normalise(parameters), progress)
