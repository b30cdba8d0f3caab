"""The leaderboard page's data: the follower's mirror strategy, read on the engine thread."""

from __future__ import annotations

from typing import Any

from tradingsystem.engine.kernel import Kernel
from tradingsystem.strategies.mirror import Mirror

__all__ = ["leaderboard"]


def leaderboard(kernel: Kernel) -> dict[str, Any]:
    mirrors = [s for s in kernel.strategies if isinstance(s, Mirror)]
    if not mirrors:
        return {"following": False, "rows": []}
    m = mirrors[0]
    return {"following": True, "rows": m.leaderboard(), "applied": m.applied, "ignored": sum(m.ignored.values())}
