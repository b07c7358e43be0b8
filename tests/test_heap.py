"""Settling the heap after start-up (``flexhub/heap.py``): garbage is collected first, what is
alive is frozen out of later collections, and a serving platform does it once it has started."""

from __future__ import annotations

import gc
import weakref

import httpx

from flexhub import heap
from support.databases import platform_settings
from support.platform import PlatformThread


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def _in_collected_generations(obj: object) -> bool:
    return any(o is obj for gen in (0, 1, 2) for o in gc.get_objects(generation=gen))


def test_settle_collects_garbage_then_freezes_what_is_alive():
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only a collection frees it
    gone = weakref.ref(a)
    del a, b
    kept = Node()
    kept.other = kept
    try:
        frozen = heap.settle()
        assert gone() is None, "the garbage cycle was frozen instead of collected"
        assert frozen > 0 and gc.get_freeze_count() > 0  # (frozen objects freed leave it)
        assert not _in_collected_generations(kept)  # out of every later collection's way
    finally:
        gc.unfreeze()
    assert _in_collected_generations(kept)


def test_a_serving_platform_settles_its_heap_after_start_up(tmp_path):
    settings = platform_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'heap.db'}", tmp_path, settle_heap=True
    )
    gc.unfreeze()
    running = PlatformThread(settings).start()
    try:
        assert gc.get_freeze_count() > 10_000  # the app, its routes, models and modules
        assert httpx.get(f"{running.base_url}/healthz").status_code == 200
    finally:
        running.stop()
        gc.unfreeze()
