"""How every benchmark times a call: CPU time, warmed up, best of many short repeats.

The best repeat, as `timeit` recommends: on a shared machine the slower repeats measure the
neighbours (cache and frequency contention inflate even CPU time), not the code. bench_ha
takes the best of its segments the same way. Anchors are timed exactly like ours.
"""

from __future__ import annotations

from collections.abc import Callable
import time
import timeit

REPEATS = 15
TARGET_SECONDS = 0.05  # per repeat


def best_us(call: Callable[[], object]) -> float:
    """Mean CPU time of one call in the best of REPEATS repeats, in microseconds."""
    for _ in range(20):  # warm up caches and lazy state
        call()
    start = time.process_time()
    call()
    once = max(time.process_time() - start, 1e-6)
    number = max(1, int(TARGET_SECONDS / once))
    timer = timeit.Timer(call, timer=time.process_time)
    return min(timer.repeat(REPEATS, number)) / number * 1e6
