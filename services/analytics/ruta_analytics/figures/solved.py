"""The suppressed view's solutions kept by a process: per projection state, and the latest per
scope (served while the next one is solved in the background)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Final

CACHED_STATES: Final = 8  # projection states kept per process (one per scope and batch)


@dataclass
class SolvedStates:
    """Solutions by projection state, the latest one of each scope, and the refreshes under
    way (one per scope)."""

    states: OrderedDict[Any, Any] = field(default_factory=OrderedDict)
    latest: dict[Any, Any] = field(default_factory=dict)
    refreshing: dict[Any, asyncio.Task[None]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.states)

    def keep(self, state: Any, scope: Any, solved: Any) -> None:
        """Keep `solved` as the solution of `state` and the latest of `scope`."""
        self.states[state] = solved
        self.states.move_to_end(state)
        while len(self.states) > CACHED_STATES:
            self.states.popitem(last=False)
        self.latest[scope] = solved
