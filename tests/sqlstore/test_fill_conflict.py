"""A fill stored again with the same id: identical is a duplicate (stored once), different is a conflict that is
reported (the node halts on it), never a silent drop."""

from tests.sqlstore.helpers import fill
from tradingsystem.adapters.sqlstore import FillConflict


def test_same_id_other_content_is_a_conflict(store):
    seen: list[FillConflict] = []
    store.on_conflict = seen.append
    store.save_fill(fill("f1", qty=2))
    store.flush()
    store.save_fill(fill("f1", qty=2))  # the venue replays it: a duplicate
    store.flush()
    assert store.conflicts == [] and store.stats().duplicate_fills == 1
    store.save_fill(fill("f1", qty=3))  # same id, other quantity
    store.flush()
    assert len(seen) == 1 and isinstance(seen[0], FillConflict) and "f1" in str(seen[0])
    assert len(store.conflicts) == 1 and [f.quantity for f in store.load_fills()] == [2]


def test_a_conflict_halts_the_node(store):
    from tests.engine.helpers import kernel, ticks
    from tradingsystem.engine.state import StateKeeper

    k, _ = kernel(ticks("WINZ26", [125_000, 125_005]))
    StateKeeper(k, store, run_id="R1")
    store.save_fill(fill("f1", qty=2))
    store.flush()
    store.save_fill(fill("f1", qty=3))
    store.flush()
    k.run()  # the halt runs on the engine thread
    assert k.guard.kill_switch and "fill 'f1'" in k.guard.kill_reason
