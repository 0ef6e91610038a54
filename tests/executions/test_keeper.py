"""One keeper thread renews every running execution's leases, however many are in flight."""
from __future__ import annotations

import multiprocessing
import threading
import time

from facho.executions.keeper import Entry, Keeper


def wait_until(condition, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class Recorder:
    def __init__(self):
        self.batches: list[list[Entry]] = []
        self.threads: set[str] = set()
        self.lose: set[Entry] = set()

    def __call__(self, due):
        self.threads.add(threading.current_thread().name)
        self.batches.append(list(due))
        return [e for e in due if e in self.lose]

    def renewals(self, entry) -> int:
        return sum(entry in batch for batch in self.batches)


def test_two_hundred_entries_are_renewed_by_one_thread_in_shared_batches():
    recorder = Recorder()
    keeper = Keeper("test-keeper", recorder)
    before = threading.active_count()
    entries = [keeper.add(Entry(0.05)) for _ in range(200)]
    assert threading.active_count() == before + 1
    wait_until(lambda: all(recorder.renewals(e) >= 3 for e in entries))
    assert recorder.threads == {"test-keeper"}
    assert max(len(batch) for batch in recorder.batches) > 100
    for entry in entries:
        keeper.remove(entry, 1)
    assert len(keeper) == 0


def test_each_entry_keeps_its_own_period():
    recorder = Recorder()
    keeper = Keeper("test-keeper", recorder)
    fast, slow = keeper.add(Entry(0.02)), keeper.add(Entry(0.5))
    wait_until(lambda: recorder.renewals(fast) >= 10)
    assert recorder.renewals(slow) <= 1
    keeper.remove(fast, 1)
    keeper.remove(slow, 1)


def test_an_entry_found_lost_is_dropped_and_told_once():
    recorder = Recorder()
    keeper = Keeper("test-keeper", recorder)
    told = []

    class Told(Entry):
        def lose(self):
            super().lose()
            told.append(self)

    gone, kept = keeper.add(Told(0.02)), keeper.add(Told(0.02))
    recorder.lose.add(gone)
    wait_until(gone.lost.is_set)
    renewals = recorder.renewals(gone)
    wait_until(lambda: recorder.renewals(kept) >= renewals + 3)
    assert recorder.renewals(gone) == renewals and told == [gone]
    assert not kept.lost.is_set()
    keeper.remove(kept, 1)


def test_removing_waits_for_its_renewal_in_progress_and_a_late_loss_is_not_reported():
    entered, release = threading.Event(), threading.Event()
    order = []

    def slow_renew(due):
        entered.set()
        release.wait(5)
        order.append("renewed")
        return list(due)          # the renewal finds it lost, after its owner let go

    keeper = Keeper("test-keeper", slow_renew)
    entry = keeper.add(Entry(0.01))
    assert entered.wait(5)
    threading.Timer(0.2, release.set).start()
    keeper.remove(entry, 5)
    order.append("removed")
    assert order == ["renewed", "removed"]
    assert not entry.lost.is_set()


def test_a_failing_renewal_keeps_the_thread_alive():
    calls = []

    def flaky(due):
        calls.append(len(due))
        if len(calls) == 1:
            raise RuntimeError("redis se fue")
        return []

    keeper = Keeper("test-keeper", flaky)
    entry = keeper.add(Entry(0.02))
    wait_until(lambda: len(calls) >= 3)
    assert not entry.lost.is_set()
    keeper.remove(entry, 1)


def _renewals_in_child(keeper, recorder, queue):
    entry = keeper.add(Entry(0.02))
    deadline = time.monotonic() + 5
    while recorder.renewals(entry) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    queue.put(recorder.renewals(entry))


def test_a_forked_child_starts_its_own_keeper_thread():
    recorder = Recorder()
    keeper = Keeper("test-keeper", recorder)
    parent_entry = keeper.add(Entry(0.02))      # the parent's thread exists; fork drops it
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_renewals_in_child, args=(keeper, recorder, queue))
    child.start()
    assert queue.get(timeout=10) >= 2
    child.join(10)
    keeper.remove(parent_entry, 1)
