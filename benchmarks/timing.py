"""How every benchmark times a call: CPU time, warmed up, median of repeats."""

from __future__ import annotations

from collections.abc import Callable
import statistics
import time
import timeit

REPEATS = 7
TARGET_SECONDS = 0.1  # per repeat


def median_us(call: Callable[[], object]) -> float:
    """Median over REPEATS of the mean CPU time of one call, in microseconds."""
    for _ in range(20):  # warm up caches and lazy state
        call()
    start = time.process_time()
    call()
    once = max(time.process_time() - start, 1e-6)
    number = max(1, int(TARGET_SECONDS / once))
    timer = timeit.Timer(call, timer=time.process_time)
    return statistics.median(t / number for t in timer.repeat(REPEATS, number)) * 1e6
