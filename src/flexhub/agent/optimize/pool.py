"""The optimizer's worker processes: forked (so that nothing is imported again and the fleet's
arrays are shared copy-on-write), or the calling process itself when one worker is asked for or
the platform cannot fork."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor


class WorkerPool:
    """Worker processes (forked, so nothing is imported again), or this process."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor = None

    def __enter__(self) -> WorkerPool:
        if self.workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
            self.executor = ProcessPoolExecutor(self.workers, mp_context=context)
        return self

    def __exit__(self, *exc) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)

    def map(self, fn, jobs):
        if self.executor is None or len(jobs) < 2:
            return [fn(j) for j in jobs]
        return list(self.executor.map(fn, jobs))

    def submit(self, fn, *args):
        if self.executor is None:
            return _Done(fn(*args))
        return self.executor.submit(fn, *args)


class _Done:
    def __init__(self, value) -> None:
        self.value = value

    def result(self, timeout=None):
        return self.value
