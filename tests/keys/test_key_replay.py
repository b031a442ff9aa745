"""The replay guard: a signature is accepted once within twice the timestamp window."""

from __future__ import annotations

from sealbook.keys.replay import ReplayGuard

WINDOW_MS = 30_000
T0 = 1_800_000_000_000


def test_first_use_is_accepted_and_second_refused() -> None:
    guard = ReplayGuard(WINDOW_MS)
    assert guard.first_use(b"sig-a", T0)
    assert not guard.first_use(b"sig-a", T0)
    assert not guard.first_use(b"sig-a", T0 + 1_000)
    assert guard.first_use(b"sig-b", T0 + 1_000)
    assert len(guard) == 2


def test_signature_is_remembered_for_twice_the_window_and_then_forgotten() -> None:
    guard = ReplayGuard(WINDOW_MS)
    assert guard.first_use(b"sig", T0)
    assert not guard.first_use(b"sig", T0 + 2 * WINDOW_MS - 1)
    assert guard.first_use(b"sig", T0 + 2 * WINDOW_MS)
    # Accepted again, so remembered again from then on.
    assert not guard.first_use(b"sig", T0 + 2 * WINDOW_MS + 1)


def test_a_refused_replay_does_not_extend_the_memory() -> None:
    guard = ReplayGuard(WINDOW_MS)
    guard.first_use(b"sig", T0)
    guard.first_use(b"sig", T0 + WINDOW_MS)
    assert guard.first_use(b"sig", T0 + 2 * WINDOW_MS)


def test_memory_is_bounded_as_time_advances() -> None:
    guard = ReplayGuard(WINDOW_MS)
    for i in range(1_000):
        assert guard.first_use(i.to_bytes(4, "big"), T0 + i)
    assert len(guard) == 1_000
    assert guard.first_use(b"later", T0 + 999 + 2 * WINDOW_MS)
    assert len(guard) == 1


def test_steady_traffic_keeps_memory_at_rate_times_ttl() -> None:
    guard = ReplayGuard(WINDOW_MS)
    sizes = []
    for second in range(600):  # ten requests a second for ten minutes
        for n in range(10):
            assert guard.first_use(f"{second}:{n}".encode(), T0 + second * 1_000 + n)
        sizes.append(len(guard))
    assert max(sizes) <= 10 * (2 * WINDOW_MS // 1_000 + 1)
    assert sizes[-1] == sizes[-100]  # flat, not growing
