"""`forward`: a Run's one-line alias for a verb of a helper it holds, typed as the helper's own method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class forward(Generic[P, R]):  # noqa: N801 - used like a decorator-ish helper in class bodies
    """`save = forward("files", RunArtifacts.save)`: `run.save(...)` is `run.files.save(...)`, with the
    helper's own signature and docstring (it hands back the helper's bound method)."""

    def __init__(self, helper: str, method: Callable[Concatenate[Any, P], R]):
        self.helper, self.name, self.__doc__ = helper, method.__name__, method.__doc__

    def __get__(self, run: Any, owner: type | None = None) -> Callable[P, R]:
        if run is None:
            return self  # type: ignore[return-value]
        return getattr(getattr(run, self.helper), self.name)
