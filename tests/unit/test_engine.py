"""Unit tests for the engine: MemoryBudget, with_retries, OrderedGate and move_bytes."""

from __future__ import annotations

import asyncio
import hashlib
import random

import pytest

from azxfer.engine import transfer as transfer_mod
from azxfer.engine.budget import MemoryBudget
from azxfer.engine.transfer import OrderedGate, TransferContext, move_bytes
from azxfer.errors import IntegrityError, Interrupted, NotFoundError, RetryableError, TransferError
from azxfer.events import CollectingSink, Progress, TransferResumed
from azxfer.models import Chunk, Entry, Transfer
from azxfer.transport.retry import RetryPolicy, with_retries


def run(coro, timeout: float = 5.0):
    """Run a coroutine with a hard timeout, so a deadlock fails instead of hanging."""

    async def guarded():
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(guarded())


async def settle(rounds: int = 5) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


# --- MemoryBudget ---------------------------------------------------------------------------


def test_budget_grants_immediately_within_capacity() -> None:
    async def main() -> None:
        budget = MemoryBudget(100)
        assert await budget.acquire(60) == 60
        assert await budget.acquire(40) == 40
        assert budget.held == 100
        budget.release(60)
        budget.release(40)
        assert budget.held == 0

    run(main())


def test_budget_capacity_is_at_least_one() -> None:
    assert MemoryBudget(0).capacity == 1
    assert MemoryBudget(-5).capacity == 1


def test_budget_is_fifo_fair() -> None:
    async def main() -> None:
        budget = MemoryBudget(10)
        await budget.acquire(8)
        order: list[str] = []

        async def want(name: str, amount: int) -> None:
            got = await budget.acquire(amount)
            order.append(f"{name}:{got}")

        big = asyncio.create_task(want("big", 5))
        await settle()
        small = asyncio.create_task(want("small", 1))  # would fit now, but must queue
        await settle()
        assert order == []
        assert budget.held == 8
        budget.release(8)
        await asyncio.gather(big, small)
        assert order == ["big:5", "small:1"]
        assert budget.held == 6

    run(main())


def test_budget_wakes_only_those_that_fit_in_order() -> None:
    async def main() -> None:
        budget = MemoryBudget(10)
        await budget.acquire(10)
        tasks = [asyncio.create_task(budget.acquire(n)) for n in (4, 4, 4)]
        await settle()
        budget.release(10)
        await settle()
        assert [t.done() for t in tasks] == [True, True, False]
        assert budget.held == 8
        budget.release(4)
        await settle()
        assert tasks[2].done()
        assert budget.held == 8

    run(main())


def test_budget_oversize_request_granted_when_empty() -> None:
    async def main() -> None:
        budget = MemoryBudget(10)
        got = await budget.acquire(1000)
        assert got == 10
        assert budget.held == 10
        budget.release(got)
        assert budget.held == 0

    run(main())


def test_budget_oversize_request_waits_until_empty() -> None:
    async def main() -> None:
        budget = MemoryBudget(10)
        await budget.acquire(3)
        await budget.acquire(3)
        huge = asyncio.create_task(budget.acquire(50))
        await settle()
        assert not huge.done()
        budget.release(3)
        await settle()
        assert not huge.done()
        budget.release(3)
        assert await huge == 10
        assert budget.held == 10

    run(main())


def test_budget_cancel_waiting_head_lets_next_in() -> None:
    async def main() -> None:
        budget = MemoryBudget(10)
        await budget.acquire(8)
        head = asyncio.create_task(budget.acquire(5))
        await settle()
        nxt = asyncio.create_task(budget.acquire(2))
        await settle()
        assert not nxt.done()
        head.cancel()
        with pytest.raises(asyncio.CancelledError):
            await head
        assert await nxt == 2
        assert budget.held == 10
        assert budget._waiters == []
        budget.release(8)
        budget.release(2)
        assert budget.held == 0

    run(main())


def test_budget_cancel_after_grant_returns_the_bytes() -> None:
    async def main() -> None:
        budget = MemoryBudget(10)
        await budget.acquire(10)
        waiter = asyncio.create_task(budget.acquire(6))
        await settle()
        budget.release(10)  # grants the waiter (held 6) before it gets to run
        assert budget.held == 6
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert budget.held == 0
        assert budget._waiters == []
        assert await budget.acquire(10) == 10

    run(main())


def test_budget_cancel_non_head_waiter() -> None:
    async def main() -> None:
        budget = MemoryBudget(10)
        await budget.acquire(10)
        first = asyncio.create_task(budget.acquire(5))
        second = asyncio.create_task(budget.acquire(5))
        third = asyncio.create_task(budget.acquire(5))
        await settle()
        second.cancel()
        await settle()
        budget.release(10)
        await asyncio.gather(first, third)
        assert second.cancelled()
        assert budget.held == 10

    run(main())


# --- with_retries / RetryPolicy -------------------------------------------------------------


class Flaky:
    """Raises the given errors in turn, then returns 'ok'."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def busy(retry_after: float | None = None) -> RetryableError:
    err = RetryableError("busy")
    if retry_after is not None:
        err.retry_after = retry_after  # type: ignore[attr-defined]
    return err


def test_retry_policy_defaults() -> None:
    assert RetryPolicy() == RetryPolicy(
        attempts=7, base_delay=1.0, max_delay=30.0, max_retry_after=60.0
    )


def test_retries_then_succeeds_with_jittered_backoff() -> None:
    call, sleep = Flaky(busy(), busy(), busy()), Sleeps()
    result = run(with_retries(call, RetryPolicy(), "x", random.Random(7), sleep))
    assert result == "ok"
    assert call.calls == 4
    ref = random.Random(7)
    assert sleep.waits == [ref.uniform(0.5, 1.0), ref.uniform(1.0, 2.0), ref.uniform(2.0, 4.0)]
    assert 0.5 <= sleep.waits[0] <= 1.0
    assert 1.0 <= sleep.waits[1] <= 2.0
    assert 2.0 <= sleep.waits[2] <= 4.0


def test_no_retry_on_success() -> None:
    call, sleep = Flaky(), Sleeps()
    assert run(with_retries(call, RetryPolicy(), "x", random.Random(1), sleep)) == "ok"
    assert (call.calls, sleep.waits) == (1, [])


@pytest.mark.parametrize(
    "error",
    [
        TransferError("bad request"),
        IntegrityError("md5"),
        NotFoundError("gone"),
        ValueError("bug"),
    ],
)
def test_non_retryable_errors_are_raised_at_once(error: BaseException) -> None:
    call, sleep = Flaky(error), Sleeps()
    with pytest.raises(type(error)) as info:
        run(with_retries(call, RetryPolicy(), "x", random.Random(1), sleep))
    assert info.value is error
    assert (call.calls, sleep.waits) == (1, [])


class Refused(RetryableError):
    attempts = 2

    def exhausted(self) -> TransferError:
        return TransferError(f"gave up: {self}")


def test_an_error_may_cap_its_own_attempts_and_say_what_it_becomes() -> None:
    call, sleep = Flaky(Refused("refused"), Refused("refused again"), busy()), Sleeps()
    with pytest.raises(TransferError, match="gave up: refused again") as info:
        run(with_retries(call, RetryPolicy(), "x", random.Random(1), sleep))
    assert not isinstance(info.value, RetryableError)
    assert call.calls == 2 and len(sleep.waits) == 1


def test_a_capped_error_never_raises_the_policys_own_limit() -> None:
    call, sleep = Flaky(Refused("a"), busy()), Sleeps()
    with pytest.raises(RetryableError, match="busy"):
        run(with_retries(call, RetryPolicy(attempts=2), "x", random.Random(1), sleep))
    assert call.calls == 2


def test_stops_after_attempts_and_raises_the_last_error() -> None:
    errors = [busy() for _ in range(5)]
    call, sleep = Flaky(*errors), Sleeps()
    with pytest.raises(RetryableError) as info:
        run(with_retries(call, RetryPolicy(attempts=3), "x", random.Random(1), sleep))
    assert info.value is errors[2]
    assert call.calls == 3
    assert len(sleep.waits) == 2


def test_single_attempt_never_sleeps() -> None:
    call, sleep = Flaky(busy()), Sleeps()
    with pytest.raises(RetryableError):
        run(with_retries(call, RetryPolicy(attempts=1), "x", random.Random(1), sleep))
    assert (call.calls, sleep.waits) == (1, [])


def test_retry_after_is_honoured() -> None:
    call, sleep = Flaky(busy(retry_after=10.0), busy(retry_after=0.01)), Sleeps()
    run(with_retries(call, RetryPolicy(), "x", random.Random(3), sleep))
    ref = random.Random(3)
    first_jitter = ref.uniform(0.5, 1.0)
    second_jitter = ref.uniform(1.0, 2.0)
    assert first_jitter < 10.0
    assert sleep.waits == [10.0, second_jitter]


def test_retry_after_is_capped() -> None:
    call, sleep = Flaky(busy(retry_after=3600.0)), Sleeps()
    policy = RetryPolicy(max_retry_after=60.0)
    run(with_retries(call, policy, "x", random.Random(3), sleep))
    assert sleep.waits == [60.0]


def test_retry_after_none_attribute_uses_backoff() -> None:
    err = busy()
    err.retry_after = None  # type: ignore[attr-defined]
    call, sleep = Flaky(err), Sleeps()
    run(with_retries(call, RetryPolicy(), "x", random.Random(11), sleep))
    assert sleep.waits == [random.Random(11).uniform(0.5, 1.0)]


def test_backoff_is_capped_at_max_delay() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0)
    rng = random.Random(5)
    ref = random.Random(5)
    for retry in (6, 7, 20):
        wait = policy.delay(retry, None, rng)
        assert wait == ref.uniform(15.0, 30.0)
        assert 15.0 <= wait <= 30.0
    assert policy.delay(1, 5.0, random.Random(0)) == 5.0


# --- OrderedGate ----------------------------------------------------------------------------


def test_ordered_gate_lets_chunks_through_in_index_order() -> None:
    async def main() -> list[int]:
        gate = OrderedGate()
        order: list[int] = []

        async def through(index: int) -> None:
            async with gate.turn(index):
                order.append(index)
                await asyncio.sleep(0)

        indices = [4, 2, 0, 3, 1, 5]
        rng = random.Random(9)
        rng.shuffle(indices)
        await asyncio.gather(*(through(i) for i in indices))
        return order

    assert run(main()) == [0, 1, 2, 3, 4, 5]


def test_ordered_gate_holds_later_index_until_earlier_exits() -> None:
    async def main() -> None:
        gate = OrderedGate()
        entered: list[int] = []

        async def later() -> None:
            async with gate.turn(1):
                entered.append(1)

        task = asyncio.create_task(later())
        await settle()
        assert entered == []
        async with gate.turn(0):
            await settle()
            assert entered == []
        await task
        assert entered == [1]

    run(main())


# --- move_bytes -----------------------------------------------------------------------------


class FakeReader:
    def __init__(self, data: bytes, delays: dict[int, float] | None = None) -> None:
        self.data = data
        self.delays = delays or {}
        self.reads: list[tuple[int, int]] = []
        self.finished = 0

    async def read(self, offset: int, length: int) -> bytes:
        self.reads.append((offset, length))
        await asyncio.sleep(self.delays.get(offset, 0))
        return self.data[offset : offset + length]

    async def finish(self) -> None:
        self.finished += 1

    async def close(self) -> None:
        pass


class FakeWriter:
    def __init__(
        self,
        chunk_size: int,
        padded_size: int,
        sequential: bool = False,
        present: set[int] | None = None,
        local: bytes | None = None,
        fail_on: int | None = None,
        on_write=None,
    ) -> None:
        self.chunk_size = chunk_size
        self.padded_size = padded_size
        self.sequential = sequential
        self.present = present or set()
        self.local = local
        self.fail_on = fail_on
        self.on_write = on_write
        self.whole: list[tuple[bytes, bytes]] = []
        self.written: list[tuple[int, bytes]] = []
        self.committed: list[bytes] = []
        self.aborted = 0
        self.suspended = 0
        self.asked_resume: list[tuple[Chunk, ...]] = []
        self.read_backs: list[int] = []

    async def put_whole(self, data: bytes, md5: bytes) -> None:
        self.whole.append((data, md5))

    async def write_chunk(self, chunk: Chunk, data: bytes) -> None:
        await asyncio.sleep(0)
        if chunk.index == self.fail_on:
            raise TransferError(f"chunk {chunk.index} refused")
        self.written.append((chunk.index, data))
        if self.on_write:
            self.on_write(chunk)

    async def commit(self, md5: bytes) -> None:
        self.committed.append(md5)

    async def abort(self) -> None:
        self.aborted += 1

    async def suspend(self) -> None:
        self.suspended += 1

    async def resumable_chunks(self, journaled: tuple[Chunk, ...]) -> set[int]:
        self.asked_resume.append(journaled)
        return set(self.present)

    async def read_back(self, chunk: Chunk) -> bytes | None:
        self.read_backs.append(chunk.index)
        if self.local is None:
            return None
        return self.local[chunk.offset : chunk.offset + chunk.length]


class Harness:
    """A TransferContext plus what its hooks saw."""

    def __init__(self, memory: int = 1 << 20, requests: int = 4, verify_error=None) -> None:
        self.verified: list[bytes] = []
        self.recorded: list[tuple[int, Chunk]] = []
        self.sink = CollectingSink()
        self.verify_error = verify_error
        self.memory = MemoryBudget(memory)
        self.ctx = TransferContext(
            requests=asyncio.Semaphore(requests),
            memory=self.memory,
            sink=self.sink,
            verify=self._verify,
            record_chunk=lambda tid, chunk: self.recorded.append((tid, chunk)),
        )

    def _verify(self, transfer: Transfer, md5: bytes) -> None:
        self.verified.append(md5)
        if self.verify_error is not None:
            raise self.verify_error

    def progress(self) -> int:
        return sum(e.bytes for e in self.sink.events if isinstance(e, Progress))


def data_of(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def transfer_of(size: int) -> Transfer:
    return Transfer(7, Entry("src", "src", size), "dst", "dst")


def md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


@pytest.mark.parametrize("size", [0, 1, 100, 1024])
def test_single_chunk_path(size: int) -> None:
    data = data_of(size)

    async def main():
        h = Harness()
        reader, writer = FakeReader(data), FakeWriter(1024, size)
        await move_bytes(h.ctx, transfer_of(size), reader, writer)
        return h, reader, writer

    h, reader, writer = run(main())
    assert writer.whole == [(data, md5(data))]
    assert writer.written == [] and writer.committed == []
    assert h.verified == [md5(data)]
    assert reader.finished == 1
    assert reader.reads == ([(0, size)] if size else [])
    assert (writer.aborted, writer.suspended) == (0, 0)
    assert h.memory.held == 0


def test_single_chunk_md5_includes_padding() -> None:
    data = data_of(700)

    async def main():
        h = Harness()
        writer = FakeWriter(1024, 1024)
        await move_bytes(h.ctx, transfer_of(700), FakeReader(data), writer)
        return h, writer

    h, writer = run(main())
    padded = md5(data + bytes(324))
    assert writer.whole == [(data, padded)]
    assert h.verified == [padded]


@pytest.mark.parametrize(
    ("size", "step", "memory", "requests"),
    [
        (10 * 1024, 1024, 1 << 20, 4),
        (10 * 1024 + 17, 1024, 1 << 20, 4),
        (5000, 1000, 1000, 1),  # memory for one chunk at a time, one request
        (3 * (1 << 20) + 5, 1 << 20, 8 << 20, 8),  # chunks large enough to hash in a thread
    ],
)
def test_multi_chunk_path(size: int, step: int, memory: int, requests: int) -> None:
    data = data_of(size, seed=size)

    async def main():
        h = Harness(memory=memory, requests=requests)
        reader, writer = FakeReader(data), FakeWriter(step, size)
        await move_bytes(h.ctx, transfer_of(size), reader, writer)
        return h, reader, writer

    h, reader, writer = run(main())
    n = -(-size // step)
    assert sorted(i for i, _ in writer.written) == list(range(n))
    assert b"".join(d for _, d in sorted(writer.written)) == data
    assert writer.committed == [hashlib.md5(data).digest()]
    assert h.verified == [hashlib.md5(data).digest()]
    assert writer.whole == []
    assert reader.finished == 1
    assert sorted(c.index for _, c in h.recorded) == list(range(n))
    assert {tid for tid, _ in h.recorded} == {7}
    assert h.progress() == size
    assert (writer.aborted, writer.suspended) == (0, 0)
    assert writer.asked_resume == []
    assert h.memory.held == 0


def test_multi_chunk_md5_includes_padding() -> None:
    data = data_of(3000)

    async def main():
        h = Harness()
        writer = FakeWriter(1024, 3072)
        await move_bytes(h.ctx, transfer_of(3000), FakeReader(data), writer)
        return writer

    writer = run(main())
    assert writer.committed == [md5(data + bytes(72))]


@pytest.mark.parametrize("sequential", [True, False])
def test_sequential_writer_receives_chunks_in_order(sequential: bool) -> None:
    step, n = 256, 8
    data = data_of(step * n)
    # Earlier chunks are read more slowly, so reads complete in reverse order.
    delays = {i * step: (n - i) * 0.003 for i in range(n)}

    async def main():
        h = Harness(requests=n)
        writer = FakeWriter(step, len(data), sequential=sequential)
        await move_bytes(h.ctx, transfer_of(len(data)), FakeReader(data, delays), writer)
        return writer

    writer = run(main())
    order = [i for i, _ in writer.written]
    if sequential:
        assert order == list(range(n))
    else:
        assert order != list(range(n))  # proves the delays reorder, so the check has teeth
        assert sorted(order) == list(range(n))
    assert writer.committed == [md5(data)]


def test_sequential_writer_with_a_single_request_slot() -> None:
    step, n = 100, 6
    data = data_of(step * n)

    async def main():
        h = Harness(requests=1)
        writer = FakeWriter(step, len(data), sequential=True)
        await move_bytes(h.ctx, transfer_of(len(data)), FakeReader(data), writer)
        return writer

    writer = run(main())
    assert [i for i, _ in writer.written] == list(range(n))
    assert writer.committed == [md5(data)]


@pytest.mark.parametrize("size", [500, 5000])
def test_verify_failure_aborts_the_writer(size: int) -> None:
    data = data_of(size)
    error = IntegrityError("the MD5 differs")

    async def main():
        h = Harness(verify_error=error)
        reader, writer = FakeReader(data), FakeWriter(1024, size)
        with pytest.raises(IntegrityError) as info:
            await move_bytes(h.ctx, transfer_of(size), reader, writer)
        assert info.value is error
        return h, reader, writer

    h, reader, writer = run(main())
    assert writer.aborted == 1
    assert writer.suspended == 0
    assert writer.committed == [] and writer.whole == []
    assert reader.finished == 0
    assert h.verified == [md5(data)]
    assert h.memory.held == 0


def test_failing_chunk_raises_its_own_error_and_aborts() -> None:
    data = data_of(8 * 128)

    async def main():
        h = Harness()
        writer = FakeWriter(128, len(data), fail_on=3)
        with pytest.raises(TransferError, match="chunk 3 refused") as info:
            await move_bytes(h.ctx, transfer_of(len(data)), FakeReader(data), writer)
        assert type(info.value) is TransferError
        return h, writer

    h, writer = run(main())
    assert writer.aborted == 1
    assert writer.suspended == 0
    assert writer.committed == []
    assert h.verified == []
    assert h.memory.held == 0


@pytest.mark.parametrize("local_copy", [False, True])
def test_resume_skips_present_chunks_but_hashes_them(local_copy: bool) -> None:
    step = 1000
    size = 5500  # 6 chunks, the last one 500 bytes
    data = data_of(size, seed=42)
    journaled = (Chunk(0, 0, step), Chunk(2, 2000, step))
    present = {0, 2, 5}

    async def main():
        h = Harness()
        reader = FakeReader(data)
        writer = FakeWriter(step, size, present=present, local=data if local_copy else None)
        await move_bytes(h.ctx, transfer_of(size), reader, writer, resume=journaled)
        return h, reader, writer

    h, reader, writer = run(main())
    assert writer.asked_resume == [journaled]
    assert sorted(i for i, _ in writer.written) == [1, 3, 4]
    assert writer.committed == [md5(data)]
    assert h.verified == [md5(data)]
    assert sorted(writer.read_backs) == [0, 2, 5]
    assert sorted(c.index for _, c in h.recorded) == [1, 3, 4]
    resumed = [e for e in h.sink.events if isinstance(e, TransferResumed)]
    assert resumed == [TransferResumed(7, 3, 2500)]
    assert h.progress() == size
    read_offsets = sorted(o for o, _ in reader.reads)
    if local_copy:
        assert read_offsets == [1000, 3000, 4000]
    else:
        assert read_offsets == [0, 1000, 2000, 3000, 4000, 5000]
    assert h.memory.held == 0


def test_resume_with_nothing_present_is_a_fresh_transfer() -> None:
    data = data_of(3000)

    async def main():
        h = Harness()
        writer = FakeWriter(1000, 3000)
        await move_bytes(h.ctx, transfer_of(3000), FakeReader(data), writer, resume=())
        return h, writer

    h, writer = run(main())
    assert writer.asked_resume == [()]
    assert sorted(i for i, _ in writer.written) == [0, 1, 2]
    assert not any(isinstance(e, TransferResumed) for e in h.sink.events)
    assert writer.committed == [md5(data)]


def test_stop_before_start_interrupts_and_suspends() -> None:
    data = data_of(4000)

    async def main():
        h = Harness()
        h.ctx.stop.set()
        writer = FakeWriter(1000, 4000)
        with pytest.raises(Interrupted, match="stopped before chunk 0 of src"):
            await move_bytes(h.ctx, transfer_of(4000), FakeReader(data), writer)
        return h, writer

    h, writer = run(main())
    assert writer.suspended == 1
    assert writer.aborted == 0
    assert writer.written == [] and writer.committed == []
    assert h.verified == []
    assert h.memory.held == 0


def test_stop_midway_finishes_in_flight_chunks_then_interrupts() -> None:
    step, n = 100, 10
    data = data_of(step * n)

    async def main():
        h = Harness(memory=2 * step)  # at most two chunks in flight
        writer = FakeWriter(step, len(data), on_write=lambda chunk: h.ctx.stop.set())
        with pytest.raises(Interrupted) as info:
            await move_bytes(h.ctx, transfer_of(len(data)), FakeReader(data), writer)
        return h, writer, str(info.value)

    h, writer, message = run(main())
    written = sorted(i for i, _ in writer.written)
    assert 1 <= len(written) < n
    assert written == list(range(len(written)))
    assert message == f"stopped before chunk {len(written)} of src"
    assert sorted(c.index for _, c in h.recorded) == written
    assert writer.suspended == 1
    assert writer.aborted == 0
    assert writer.committed == []
    assert h.verified == []
    assert h.memory.held == 0


def test_stop_still_restores_present_chunks() -> None:
    data = data_of(3000)

    async def main():
        h = Harness()
        h.ctx.stop.set()
        writer = FakeWriter(1000, 3000, present={0, 1})
        with pytest.raises(Interrupted, match="stopped before chunk 2 of src"):
            await move_bytes(
                h.ctx, transfer_of(3000), FakeReader(data), writer, resume=(Chunk(0, 0, 1000),)
            )
        return writer

    writer = run(main())
    assert sorted(writer.read_backs) == [0, 1]
    assert writer.written == []
    assert writer.suspended == 1


# --- streamed chunks (reader.read_to → writer.write_at) -------------------------------------


class StreamingReader(FakeReader):
    """A reader that hands each range over in pieces of `piece` bytes."""

    def __init__(self, data: bytes, piece: int, delays: dict[int, float] | None = None) -> None:
        super().__init__(data, delays)
        self.piece = piece
        self.streamed: list[tuple[int, int]] = []

    async def read_to(self, offset: int, length: int, consume) -> None:
        self.streamed.append((offset, length))
        await asyncio.sleep(self.delays.get(offset, 0))
        for start in range(offset, offset + length, self.piece):
            await consume(start, self.data[start : min(start + self.piece, offset + length)])


class StreamingWriter(FakeWriter):
    """A writer into a bytearray 'file' that takes pieces at any offset and reads them back."""

    def __init__(self, chunk_size: int, size: int, local: bytes | None = None, **kw) -> None:
        super().__init__(chunk_size, size, **kw)
        self.file = bytearray(local if local is not None else bytes(size))
        self.pieces: list[tuple[int, int]] = []
        self.read_back_ranges: list[tuple[int, int]] = []

    async def write_at(self, offset: int, data: bytes) -> None:
        await asyncio.sleep(0)
        if self.fail_on is not None and offset >= self.fail_on:
            raise TransferError(f"cannot write at {offset}")
        self.pieces.append((offset, len(data)))
        self.file[offset : offset + len(data)] = data

    async def read_back(self, chunk: Chunk) -> bytes | None:
        self.read_back_ranges.append((chunk.offset, chunk.length))
        return bytes(self.file[chunk.offset : chunk.offset + chunk.length])


class PeakBudget(MemoryBudget):
    """A MemoryBudget that remembers the most it ever held."""

    peak = 0

    async def acquire(self, amount: int) -> int:
        got = await super().acquire(amount)
        self.peak = max(self.peak, self.held)
        return got


@pytest.mark.parametrize("hashing", [True, False])
def test_streamed_chunks_go_piece_by_piece_and_hash_in_order(hashing: bool) -> None:
    step, n = transfer_mod.STREAM_HOLD * 4, 6
    size = step * n - 123
    data = data_of(size, seed=5)
    # Earlier chunks arrive later, so the hasher must wait for them.
    delays = {i * step: (n - i) * 0.002 for i in range(n)}

    async def main():
        h = Harness(memory=64 << 20, requests=n)
        h.ctx.memory = h.memory = PeakBudget(64 << 20)
        h.ctx.wants_md5 = lambda _t, _learns: hashing
        reader = StreamingReader(data, piece=64 * 1024, delays=delays)
        writer = StreamingWriter(step, size)
        await move_bytes(h.ctx, transfer_of(size), reader, writer)
        return h, reader, writer

    h, reader, writer = run(main())
    assert bytes(writer.file) == data
    assert reader.reads == []  # nothing went through read(): every chunk was streamed
    assert sorted(reader.streamed) == [(i * step, min(step, size - i * step)) for i in range(n)]
    assert writer.written == []
    assert max(length for _, length in writer.pieces) == 64 * 1024
    expected = md5(data) if hashing else b""
    assert writer.committed == [expected]
    assert h.verified == [expected]
    if hashing:  # hashed from what was written, in order, in bounded pieces
        offsets = [o for o, _ in writer.read_back_ranges]
        assert offsets == sorted(offsets)
        assert sum(length for _, length in writer.read_back_ranges) == size
        assert max(length for _, length in writer.read_back_ranges) <= 2 * 1024 * 1024
    else:
        assert writer.read_back_ranges == []
    # A streamed chunk holds only a small share of the budget, not its length.
    assert h.memory.peak <= n * transfer_mod.STREAM_HOLD
    assert h.memory.held == 0
    assert sorted(c.index for _, c in h.recorded) == list(range(n))
    assert h.progress() == size


def test_streamed_resume_hashes_present_chunks_from_the_file() -> None:
    step, size = 1000, 5500
    data = data_of(size, seed=9)
    present = {0, 2, 5}
    partial = bytearray(size)
    for i in present:
        partial[i * step : (i + 1) * step] = data[i * step : (i + 1) * step]

    async def main():
        h = Harness()
        reader = StreamingReader(data, piece=300)
        writer = StreamingWriter(step, size, local=bytes(partial), present=present)
        await move_bytes(h.ctx, transfer_of(size), reader, writer, resume=(Chunk(0, 0, step),))
        return h, reader, writer

    h, reader, writer = run(main())
    assert bytes(writer.file) == data
    assert reader.reads == []
    assert sorted(o for o, _ in reader.streamed) == [1000, 3000, 4000]
    assert writer.committed == [md5(data)]
    assert [o for o, _ in writer.read_back_ranges] == [0, 1000, 2000, 3000, 4000, 5000]
    assert h.progress() == size
    assert h.memory.held == 0


def test_streamed_write_failure_aborts_and_releases_memory() -> None:
    step, size = 1000, 6000
    data = data_of(size)

    async def main():
        h = Harness()
        writer = StreamingWriter(step, size, fail_on=2500)
        with pytest.raises(TransferError, match=r"cannot write at \d+"):
            await move_bytes(h.ctx, transfer_of(size), StreamingReader(data, 500), writer)
        return h, writer

    h, writer = run(main())
    assert writer.aborted == 1
    assert writer.committed == []
    assert h.verified == []
    assert h.memory.held == 0


def test_sequential_writers_are_never_streamed() -> None:
    step, n = 100, 5
    data = data_of(step * n)

    async def main():
        h = Harness()
        reader = StreamingReader(data, 30)
        writer = StreamingWriter(step, len(data), sequential=True)
        await move_bytes(h.ctx, transfer_of(len(data)), reader, writer)
        return reader, writer

    reader, writer = run(main())
    assert reader.streamed == []
    assert [i for i, _ in writer.written] == list(range(n))
    assert writer.committed == [md5(data)]


def test_stop_midway_while_streaming_interrupts_after_in_flight_chunks() -> None:
    step, n = 100, 10
    data = data_of(step * n)

    async def main():
        h = Harness(requests=2)
        reader = StreamingReader(data, 40)
        writer = StreamingWriter(step, len(data))
        original = writer.write_at

        async def write_then_stop(offset: int, piece: bytes) -> None:
            await original(offset, piece)
            h.ctx.stop.set()

        writer.write_at = write_then_stop
        with pytest.raises(Interrupted):
            await move_bytes(h.ctx, transfer_of(len(data)), reader, writer)
        return h, writer

    h, writer = run(main())
    done = sorted(c.index for _, c in h.recorded)
    assert 1 <= len(done) < n
    for index in done:  # every chunk recorded as done is wholly in the file
        part = slice(index * step, (index + 1) * step)
        assert writer.file[part] == data[part]
    assert writer.suspended == 1 and writer.aborted == 0
    assert writer.committed == []
    assert h.memory.held == 0


@pytest.mark.parametrize("hashing", [True, False])
def test_single_chunk_above_the_stream_hold_is_streamed(hashing: bool) -> None:
    size = transfer_mod.STREAM_HOLD * 12 + 5  # one chunk, larger than one read-back piece
    data = data_of(size, seed=11)

    async def main():
        h = Harness(memory=64 << 20)
        h.ctx.memory = h.memory = PeakBudget(64 << 20)
        h.ctx.wants_md5 = lambda _t, _learns: hashing
        reader = StreamingReader(data, piece=100_000)
        writer = StreamingWriter(size, size)
        await move_bytes(h.ctx, transfer_of(size), reader, writer)
        return h, reader, writer

    h, reader, writer = run(main())
    assert bytes(writer.file) == data
    assert reader.streamed == [(0, size)] and reader.reads == []
    assert writer.whole == []
    expected = md5(data) if hashing else b""
    assert writer.committed == [expected]
    assert h.verified == [expected]
    assert reader.finished == 1
    assert h.memory.peak == transfer_mod.STREAM_HOLD
    assert h.memory.held == 0
    if hashing:
        assert len(writer.read_back_ranges) == 2
    else:
        assert writer.read_back_ranges == []


def test_small_single_chunk_is_read_whole_even_when_streaming_is_possible() -> None:
    data = data_of(1000)

    async def main():
        h = Harness()
        reader = StreamingReader(data, piece=100)
        writer = StreamingWriter(4096, len(data))
        await move_bytes(h.ctx, transfer_of(len(data)), reader, writer)
        return reader, writer

    reader, writer = run(main())
    assert reader.streamed == [] and reader.reads == [(0, 1000)]
    assert writer.whole == [(data, md5(data))]


def test_streamed_download_reads_runs_of_chunks_and_journals_each_chunk() -> None:
    step, n = 64 * 1024, 64  # 64 chunks: 4 ranges of 16 chunks each (STREAMS_PER_FILE = 4)
    size = step * n - 1000
    data = data_of(size, seed=21)

    async def main():
        h = Harness(memory=64 << 20, requests=8)
        reader = StreamingReader(data, piece=50_000)
        writer = StreamingWriter(step, size)
        await move_bytes(h.ctx, transfer_of(size), reader, writer)
        return h, reader, writer

    h, reader, writer = run(main())
    assert bytes(writer.file) == data
    assert sorted(reader.streamed) == [
        (r * 16 * step, min(16 * step, size - r * 16 * step)) for r in range(4)
    ]
    assert sorted(c.index for _, c in h.recorded) == list(range(n))
    assert writer.committed == [md5(data)]
    assert h.progress() == size
    assert h.memory.held == 0


def test_streamed_runs_never_span_chunks_already_present() -> None:
    step, n = 64 * 1024, 40  # 10 chunks per run at most (40 // STREAMS_PER_FILE)
    size = step * n
    data = data_of(size, seed=22)
    present = {3, 4, 17}
    partial = bytearray(size)
    for i in present:
        partial[i * step : (i + 1) * step] = data[i * step : (i + 1) * step]

    async def main():
        h = Harness(memory=64 << 20, requests=8)
        reader = StreamingReader(data, piece=40_000)
        writer = StreamingWriter(step, size, local=bytes(partial), present=present)
        await move_bytes(h.ctx, transfer_of(size), reader, writer, resume=())
        return h, reader, writer

    h, reader, writer = run(main())
    assert bytes(writer.file) == data
    covered = sorted(
        i for at, length in reader.streamed for i in range(at // step, (at + length) // step)
    )
    assert covered == [i for i in range(n) if i not in present]
    assert all(length <= 10 * step for _, length in reader.streamed)
    assert sorted(c.index for _, c in h.recorded) == covered
    assert writer.committed == [md5(data)]
    assert h.memory.held == 0


def test_stop_inside_a_streamed_run_keeps_the_finished_chunks_journaled() -> None:
    step, n = 1000, 64
    data = data_of(step * n)

    async def main():
        h = Harness(requests=1)
        reader = StreamingReader(data, 300)
        writer = StreamingWriter(step, len(data))
        original = writer.write_at

        async def write_then_stop(offset: int, piece: bytes) -> None:
            await original(offset, piece)
            if offset > 2500:
                h.ctx.stop.set()

        writer.write_at = write_then_stop
        with pytest.raises(Interrupted, match="stopped before chunk 16 of src"):
            await move_bytes(h.ctx, transfer_of(len(data)), reader, writer)
        return h, reader, writer

    h, reader, writer = run(main())
    # 64 chunks, 4 runs of 16: the run in flight finishes, nothing else starts
    assert reader.streamed == [(0, 16 * step)]
    assert sorted(c.index for _, c in h.recorded) == list(range(16))
    assert writer.suspended == 1 and writer.committed == []
    assert h.memory.held == 0
