"""The alternative-data panel's reads: latest value of each series, and news with sentiment per instrument."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from tradingsystem.adapters.altdata import AltStore
from tradingsystem.domain.sessions import B3_TZ

__all__ = ["altdata_summary"]


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=B3_TZ).isoformat(timespec="minutes")


def altdata_summary(data_dir: Path | None, items: int = 8) -> dict[str, Any]:
    """``indicators``: one row per stored series; ``instruments``: count, mean score, negative share, latest items."""
    if data_dir is None:
        return {"indicators": [], "instruments": {}}
    store = AltStore(data_dir)
    indicators = []
    for name in store.series_names():
        t = store.vintages(name)
        if not t.num_rows:
            continue
        latest = store.latest(name)
        refs = list(latest)
        last = t.slice(t.num_rows - 1).to_pylist()[0]
        indicators.append({"series": name, "ref": refs[-1].isoformat(), "value": str(latest[refs[-1]]),
                           "previous": str(latest[refs[-2]]) if len(refs) > 1 else None,
                           "published": _iso(last["published_ns"])})
    by_inst: dict[str, list[dict[str, Any]]] = {}
    for p in store.posts().to_pylist():
        for inst in filter(None, (p["instruments"] or "").split(",")):
            by_inst.setdefault(inst, []).append(p)
    instruments = {}
    for inst, posts in sorted(by_inst.items()):
        scores = [p["score"] for p in posts]
        instruments[inst] = {
            "count": len(posts), "mean": round(sum(scores) / len(scores), 4),
            "negative_share": round(sum(s < -0.05 for s in scores) / len(scores), 4),
            "items": [{"known": _iso(p["known_ns"]), "source": p["source"], "score": round(p["score"], 3),
                       "text": p["text"][:160], "url": p["url"]} for p in posts[-items:][::-1]]}
    return {"indicators": indicators, "instruments": instruments}
