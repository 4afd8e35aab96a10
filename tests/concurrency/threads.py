"""Running test work in real threads, each with its own database connection."""

import threading
from collections.abc import Callable

from django.db import connection

JOIN_TIMEOUT = 120


def run_together(count: int, work: Callable[[int], object]) -> list[tuple[str, object]]:
    """Run ``work(i)`` in ``count`` threads released together by a barrier; return one
    ("ok", result) or ("error", exception) per thread. Each thread has its own connection."""
    barrier = threading.Barrier(count)
    outcomes: list[tuple[str, object]] = [("not run", None)] * count

    def runner(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=JOIN_TIMEOUT)
            outcomes[index] = ("ok", work(index))
        except BaseException as error:  # reported to the test, which fails on it
            outcomes[index] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return outcomes
