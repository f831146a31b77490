"""Stages in helper threads: order, errors raised where they belong, helpers that stop."""

from __future__ import annotations

import threading
import time
from contextlib import closing

import pytest

from custseg._utils.stages import ahead, behind


def _helpers() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("test-stage")}


def test_ahead_yields_every_item_in_order_from_another_thread():
    seen_in: list[str] = []

    def produce():
        for i in range(50):
            seen_in.append(threading.current_thread().name)
            yield i

    assert list(ahead(produce(), name="test-stage-a")) == list(range(50))
    assert set(seen_in) == {"test-stage-a"}
    assert _helpers() == set()


def test_ahead_stays_at_most_depth_items_ahead():
    produced = 0

    def produce():
        nonlocal produced
        for i in range(20):
            produced += 1
            yield i

    items = ahead(produce(), depth=2, name="test-stage-depth")
    assert next(items) == 0
    time.sleep(0.3)  # ample time for the helper to run ahead if it could
    # one handed over, two waiting, one produced and blocked on the full queue
    assert produced <= 4
    items.close()
    assert _helpers() == set()


def test_an_error_while_producing_is_raised_in_the_caller_in_its_place():
    def produce():
        yield 1
        yield 2
        raise ValueError("row 3 is corrupt")

    got = []
    with pytest.raises(ValueError, match="row 3 is corrupt"):
        for item in ahead(produce(), name="test-stage-error"):
            got.append(item)
    assert got == [1, 2]
    assert _helpers() == set()


def test_leaving_early_stops_nested_helpers():
    closed = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    def double(i: int) -> int:
        return 2 * i

    with (
        pytest.raises(RuntimeError),
        closing(ahead(endless(), name="test-stage-inner")) as inner,
        closing(ahead(map(double, inner), name="test-stage-outer")) as doubled,
    ):
        for value in doubled:
            if value == 10:
                raise RuntimeError("the caller fails")
    assert closed.is_set()
    assert _helpers() == set()


def test_behind_consumes_every_item_in_order_before_the_block_ends():
    consumed: list[int] = []

    def slow(item: int) -> None:
        time.sleep(0.001)
        consumed.append(item)

    with behind(slow, name="test-stage-w") as put:
        for i in range(30):
            put(i)
    assert consumed == list(range(30))
    assert _helpers() == set()


def test_a_consumer_error_is_raised_by_the_caller():
    def fail_on_three(item: int) -> None:
        if item == 3:
            raise OSError("disk full")

    with (
        pytest.raises(OSError, match="disk full"),
        behind(fail_on_three, name="test-stage-wfail") as put,
    ):
        for i in range(100):
            put(i)
            time.sleep(0.001)
    assert _helpers() == set()


def test_after_a_caller_error_queued_items_are_dropped():
    consumed: list[int] = []
    gate = threading.Event()

    def wait_then_record(item: int) -> None:
        gate.wait(5)
        consumed.append(item)

    with (
        pytest.raises(KeyError),
        behind(wait_then_record, depth=3, name="test-stage-drop") as put,
    ):
        for i in range(4):
            put(i)
        gate.set()
        raise KeyError("caller")
    # the item being consumed when the caller failed may finish; none queued after it
    assert consumed in ([], [0])
    assert _helpers() == set()
