"""Job lanes: order within a lane, parallel across lanes, cancel queued and running, supersede."""

from __future__ import annotations

import threading
import time

import pytest

from giftdesk.runtime.lanes import CANCELLED, FAILED, SUCCEEDED, SUPERSEDED, JobCancelled, LaneExecutor


@pytest.fixture
def executor():
    ex = LaneExecutor(max_workers=4)
    yield ex
    ex.shutdown(wait=True)


def test_jobs_on_one_lane_run_in_submission_order_one_at_a_time(executor):
    seen, running, overlap = [], [0], []
    lock = threading.Lock()

    def work(n):
        with lock:
            running[0] += 1
            overlap.append(running[0])
        time.sleep(0.005)
        seen.append(n)
        with lock:
            running[0] -= 1

    jobs = [executor.submit(work, n, lane="container:1") for n in range(30)]
    assert executor.wait_idle(10)
    assert seen == list(range(30))
    assert max(overlap) == 1
    assert all(j.state == SUCCEEDED for j in jobs)


def test_different_lanes_run_in_parallel_within_the_bound(executor):
    gate = threading.Barrier(4, timeout=5)
    jobs = [executor.submit(gate.wait, lane=f"container:{n}") for n in range(4)]
    assert executor.wait_idle(10)  # four at once, or the barrier would time out
    assert [j.state for j in jobs] == [SUCCEEDED] * 4

    running, peak = [0], [0]
    lock = threading.Lock()

    def busy():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1

    for n in range(20):
        executor.submit(busy, lane=n)
    assert executor.wait_idle(10)
    assert peak[0] == 4  # never more than max_workers


def test_cancel_a_queued_job_it_never_runs_and_reaches_a_final_state(executor):
    release = threading.Event()
    ran = []
    done = []
    first = executor.submit(release.wait, 5, lane="order:9")
    second = executor.submit(ran.append, "second", lane="order:9", on_done=done.append)
    third = executor.submit(ran.append, "third", lane="order:9")
    second.cancel()
    assert second.state == CANCELLED and done == [second]  # at once, while still queued
    release.set()
    assert executor.wait_idle(5)
    assert ran == ["third"]
    assert first.state == third.state == SUCCEEDED
    assert executor.pending == 0


def test_cancel_a_running_job_cooperatively(executor):
    started = threading.Event()

    def long_job(job):
        started.set()
        for _ in range(500):
            job.raise_if_cancelled()
            time.sleep(0.01)
        return "finished"

    job = executor.submit(long_job)
    assert started.wait(5)
    job.cancel()
    assert job.wait(5)
    assert job.state == CANCELLED and job.result is None


def test_plain_functions_get_a_cancel_event(executor):
    started = threading.Event()

    def waits(cancel):
        started.set()
        cancel.wait(5)
        return "saw cancel" if cancel.is_set() else "timed out"

    job = executor.submit(waits)
    assert started.wait(5)
    job.cancel()
    assert job.wait(5) and job.state == CANCELLED


def test_a_newer_job_supersedes_older_ones_with_the_same_key(executor):
    release = threading.Event()
    results = []

    def load(n, cancel):
        release.wait(5)
        results.append(n)
        return n

    old_running = executor.submit(load, 1, supersede="customers")
    time.sleep(0.05)
    middle = executor.submit(load, 2, supersede="customers")
    newest = executor.submit(load, 3, supersede="customers")
    other = executor.submit(load, 4, supersede="accounts")
    release.set()
    assert executor.wait_idle(5)
    assert old_running.state == SUPERSEDED and old_running.result is None
    assert middle.state == SUPERSEDED
    assert newest.state == SUCCEEDED and newest.result == 3
    assert other.state == SUCCEEDED


def test_every_job_reaches_exactly_one_final_state_and_on_done_once(executor):
    done = []
    lock = threading.Lock()

    def record(job):
        with lock:
            done.append(job.id)

    def fails():
        raise ValueError("bad input")

    def cancels_itself(job):
        job.cancel()
        raise JobCancelled()

    jobs = [executor.submit(fails, on_done=record), executor.submit(cancels_itself, on_done=record)]
    jobs += [executor.submit(time.sleep, 0.01, lane="x", on_done=record) for _ in range(10)]
    jobs[5].cancel()
    jobs[6].cancel()
    assert executor.wait_idle(5)
    assert sorted(done) == sorted(j.id for j in jobs)
    assert jobs[0].state == FAILED and isinstance(jobs[0].error, ValueError)
    assert jobs[1].state == CANCELLED


def test_progress_is_reported(executor):
    seen = []

    def steps(job):
        for n in range(3):
            job.progress(n + 1, 3, f"step {n + 1}")

    job = executor.submit(steps, on_progress=lambda j: seen.append((j.done_count, j.total, j.message)))
    assert job.wait(5)
    assert seen == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]


def test_after_shutdown_a_job_is_cancelled_not_lost():
    ex = LaneExecutor(2)
    ex.shutdown()
    job = ex.submit(lambda: 1)
    assert job.state == CANCELLED


def test_a_job_superseded_as_it_returns_never_counts_as_succeeded():
    """The supersede can land between the function's return and the job's end: the end decides,
    under the job's lock, so the result is dropped rather than delivered beside the newer one's."""
    from giftdesk.runtime.lanes import RUNNING, Job

    job = Job(lambda: "old rows", (), {}, "load", None, "list", None, None)
    job.state = RUNNING  # its function has just returned "old rows"
    job._stop(SUPERSEDED)  # a newer load with the same key is submitted that very moment
    job._finish(SUCCEEDED, "old rows")
    assert job.state == SUPERSEDED and job.result is None
