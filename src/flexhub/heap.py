"""The garbage collector in flexhub's long-running processes (``platform serve``, ``worker``,
``agent run``).

Start-up leaves some 180,000 objects alive for good (modules, the app, its routes, models and
validators). Python's full collections traverse all of them: about 0.1 s of CPU each on the
2-core development machine, during which the event loop answers nothing, so every request
queued behind one waited that long (the p99 of ``GET /events`` at 500 requests/s was such
waits). Once start-up is done, :func:`settle` collects once and moves everything alive into the
permanent generation, which later collections do not traverse; what is created afterwards is
collected as usual."""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect, then freeze what is alive now; returns how many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
