"""Stages of a stream that run in helper threads, joined by bounded queues.

A stream of chunks (read, prepare, assign, write) keeps both cores busy when each
stage runs in its own thread and starts on the next chunk as soon as it is free:
numpy and Arrow release the GIL for most of their work. Stages hand chunks over
through queues of ``depth`` items, so memory holds a fixed number of chunks whatever
the length of the stream.

::

    with (
        closing(ahead(chunks)) as read,                   # read ahead
        closing(ahead(map(prepare, read))) as ready,      # prepare ahead
        behind(writer.write) as write,                    # write behind
    ):
        for prepared in ready:
            write(assign(prepared))

An exception in a helper is raised in the calling thread, in order. Closing an
``ahead`` iterator (``closing`` does, when the loop is left early) stops its helper.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["ahead", "behind"]

T = TypeVar("T")

_DONE = object()
# How often a blocked helper checks whether it should stop (seconds).
_POLL = 0.05


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def ahead(
    items: Iterable[T], *, depth: int = 1, name: str = "custseg-ahead"
) -> Generator[T, None, None]:
    """Iterate ``items`` in a helper thread, at most ``depth`` items ahead of the caller.

    Parameters
    ----------
    items : iterable
        Produced in the helper thread (a generator's code runs there).
    depth : int, default=1
        Items waiting for the caller, on top of the one the helper is producing.
    name : str
        Name of the helper thread.

    Yields
    ------
    The items, in order. An exception raised while producing one is raised here, in
    its place.
    """
    handover: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                handover.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed over to the caller
            put(_Failure(error))
        finally:
            # A nested ahead() stops with this one: close it from its own thread.
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    helper = threading.Thread(target=produce, name=name, daemon=True)
    helper.start()
    try:
        while True:
            item = handover.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        helper.join()


@contextmanager
def behind(
    consume: Callable[[T], object], *, depth: int = 1, name: str = "custseg-behind"
) -> Iterator[Callable[[T], None]]:
    """Call ``consume`` on items in a helper thread; yields the function that queues one.

    Queuing blocks while ``depth`` items wait. Leaving the block waits for the queued
    items to be consumed. An exception raised by ``consume`` is raised by the next
    queuing call or, at the latest, when the block is left; after an exception in the
    block, queued items are dropped.

    Parameters
    ----------
    consume : callable
        Called once per item, in order, in the helper thread.
    depth : int, default=1
        Items waiting, on top of the one being consumed.
    name : str
        Name of the helper thread.
    """
    handover: queue.Queue[Any] = queue.Queue(maxsize=depth)
    failures: list[BaseException] = []
    abandoned = threading.Event()

    def run() -> None:
        while (item := handover.get()) is not _DONE:
            if failures or abandoned.is_set():
                continue  # keep draining so that the caller never blocks
            try:
                consume(item)
            except BaseException as error:  # noqa: BLE001 - handed over to the caller
                failures.append(error)

    def submit(item: T) -> None:
        if failures:
            raise failures[0]
        handover.put(item)

    helper = threading.Thread(target=run, name=name, daemon=True)
    helper.start()
    try:
        yield submit
    except BaseException:
        abandoned.set()
        raise
    finally:
        handover.put(_DONE)
        helper.join()
    if failures:
        raise failures[0]
