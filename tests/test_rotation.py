"""Properties of the weighted round robin (allocation/rotation.py)."""

from collections import Counter
from fractions import Fraction

import pytest
from allocation.rotation import Rotation, signature
from hypothesis import given, settings
from hypothesis import strategies as st


def take(rotation, weights, number, generation=""):
    """The next ``number`` draws of ``rotation``, in order (a batch)."""
    return [rotation.next(weights, generation) for _i in range(number)]


weights_st = st.dictionaries(
    st.integers(min_value=1, max_value=500), st.integers(1, 100), min_size=1, max_size=12
)


def assert_within_one(weights, sequence):
    """Every prefix keeps every count strictly within one lead of n * w / W."""
    total = sum(weights.values())
    counts = dict.fromkeys(weights, 0)
    k = len(weights)
    bound = Fraction(2 * k - 3, 2 * k - 2) if k > 1 else Fraction(0)
    for n, key in enumerate(sequence, start=1):
        counts[key] += 1
        for member, weight in weights.items():
            deviation = abs(counts[member] - Fraction(n * weight, total))
            assert deviation <= bound < 1, (weights, n, member, deviation)


def test_equal_weights_take_turns():
    assert take(Rotation(), {1: 1, 2: 1, 3: 1}, 6) == [1, 2, 3, 1, 2, 3]


def test_senior_gets_twice_as_many():
    sequence = take(Rotation(), {"senior": 10, "junior": 5}, 30)
    assert sequence.count("senior") == 20 and sequence.count("junior") == 10
    assert_within_one({"senior": 10, "junior": 5}, sequence)


def test_single_member_and_zero_weights():
    assert take(Rotation(), {7: 3}, 3) == [7, 7, 7]
    assert Rotation().next({1: 0, 2: 4}) == 2
    with pytest.raises(ValueError):
        Rotation().next({1: 0})


def test_signature_is_order_independent():
    assert signature({2: 5, 1: 10}) == signature({1: 10, 2: 5}) == "1:10,2:5"
    assert signature({1: 10}, "2026-01-01 10:00:00") == "1:10@2026-01-01 10:00:00"


def test_undone_change_still_starts_afresh():
    rotation = Rotation()
    take(rotation, {1: 1, 2: 2}, 1, "t0")
    # paused and resumed before the next lead: same weights, new generation
    assert take(rotation, {1: 1, 2: 2}, 3, "t1") == take(Rotation(), {1: 1, 2: 2}, 3)


@settings(max_examples=300, deadline=None)
@given(weights=weights_st, length=st.integers(1, 2000))
def test_every_prefix_within_one_lead(weights, length):
    assert_within_one(weights, take(Rotation(), weights, length))


@settings(max_examples=150, deadline=None)
@given(
    initial=weights_st,
    events=st.lists(
        st.tuples(
            st.integers(0, 300),  # leads before the change
            st.sampled_from(["weight", "pause", "resume", "add", "remove"]),
            st.integers(1, 100),
            st.integers(0, 11),
        ),
        max_size=8,
    ),
    tail=st.integers(1, 500),
)
def test_changes_take_effect_without_catch_up(initial, events, tail):
    """After any change the sequence from that point obeys the bound for the new pool."""
    rotation, pool, paused = Rotation(), dict(initial), {}
    for generation, (before, kind, value, index) in enumerate([*events, (tail, None, 0, 0)]):
        # every change moves the generation (as a settings write does), even a change that
        # is undone before the next lead: the bound holds from each change on
        active = {key: weight for key, weight in pool.items() if key not in paused}
        if active:  # everybody paused: nothing is allocated
            segment = [rotation.next(active, str(generation)) for _i in range(before)]
            assert_within_one(active, segment)
        keys = sorted(pool)
        key = keys[index % len(keys)] if keys else None
        if kind == "weight" and key is not None:
            pool[key] = value
        elif kind == "pause" and key is not None and len(paused) + 1 < len(pool):
            paused[key] = True
        elif kind == "resume" and paused:
            paused.pop(sorted(paused)[index % len(paused)])
        elif kind == "add":
            pool[max(pool, default=0) + 1] = value
        elif kind == "remove" and key is not None and len(pool) > 1:
            pool.pop(key)
            paused.pop(key, None)


@settings(max_examples=300, deadline=None)
@given(
    weights=weights_st,
    shifts=st.lists(
        st.tuples(st.integers(0, 2**12 - 1), st.integers(0, 60)), min_size=1, max_size=30
    ),
)
def test_members_leaving_and_joining_with_their_working_hours(weights, shifts):
    """Members leave the draw and come back as their working hours and time off say, with
    no change of the settings: the epoch goes on. Over the leads each member could
    receive (those drawn while they were at work, shared by the weights of those at work
    then), every member stays within two leads of their share, however often the members
    at work change: nobody starves, nobody gets a burst on coming back."""
    rotation, keys = Rotation(), sorted(weights)
    expected, received = Counter(), Counter()
    for mask, leads in shifts:
        at_work = {key for i, key in enumerate(keys) if mask >> i & 1}
        if not at_work:
            continue  # nobody at work: the leads are held, nothing is drawn
        total = sum(weights[key] for key in at_work)
        for _i in range(leads):
            received[rotation.next(weights, available=at_work)] += 1
            for key in at_work:
                expected[key] += Fraction(weights[key], total)
            for key in keys:
                assert abs(received[key] - expected[key]) < 2, (key, received, expected)


def test_nobody_starves_when_the_members_at_work_change_at_every_lead():
    """One lead while all three are at work, then one while each of them is away in turn,
    day after day: each gets a third of the leads (a new epoch at each change would give
    every lead to the first member and none to the last)."""
    rotation, weights, received = Rotation(), {1: 1, 2: 1, 3: 1}, Counter()
    for _day in range(20):
        for at_work in ({1, 2, 3}, {2, 3}, {1, 3}, {1, 2}, {1, 2, 3}):
            received[rotation.next(weights, available=at_work)] += 1
    assert sorted(received.values()) == [33, 33, 34]


def test_paused_member_gets_no_burst_on_return():
    rotation = Rotation()
    weights = {1: 1, 2: 1, 3: 1}
    take(rotation, weights, 3)
    take(rotation, {1: 1, 2: 1}, 30)  # member 3 on holiday for 30 leads
    back = take(rotation, weights, 6)
    assert back.count(3) == 2  # its plain share, not the 10 it missed


def test_state_round_trips_through_its_fields():
    first = Rotation()
    take(first, {1: 3, 2: 2}, 7)
    second = Rotation(first.signature, first.counts)
    assert take(second, {1: 3, 2: 2}, 10) == take(first, {1: 3, 2: 2}, 10)


def test_a_ticket_given_back_goes_to_the_next_lead():
    weights = {1: 2, 2: 1}
    rotation = Rotation()
    take(rotation, weights, 2)
    rotation.reserve("a")  # 1, 2: saved
    failed = take(rotation, weights, 1)
    rotation.reserve("b")  # 1: its request fails
    assert rotation.in_flight() == {1: 2, 2: 1}
    rotation.settle("a", used=True)
    rotation.settle("b", used=False)
    assert rotation.pending == [] and rotation.returned == failed
    # the member given back comes first, then the sequence goes on
    assert take(rotation, weights, 3) == failed + take(Rotation(), weights, 5)[3:]


def test_a_new_epoch_gives_nothing_back_but_counts_what_runs():
    rotation = Rotation()
    take(rotation, {1: 1, 2: 1}, 2)
    rotation.reserve("a")
    rotation.settle("a", used=False)
    take(rotation, {1: 1, 2: 1}, 1)
    rotation.reserve("b")  # still running
    assert rotation.returned == [2] and rotation.in_flight() == {1: 1}
    take(rotation, {1: 1, 2: 1, 3: 1}, 1)  # a member joined: counts start afresh
    rotation.reserve("c")
    assert rotation.returned == [] and rotation.pending == [["b", [], [1]], ["c", [1], []]]
    assert rotation.in_flight() == {1: 2}, "for the daily caps"
    rotation.settle("b", used=False)  # drawn in the old epoch: nothing to give back
    assert rotation.returned == [] and rotation.in_flight() == {1: 1}


@settings(max_examples=300, deadline=None)
@given(
    weights=weights_st,
    steps=st.lists(
        st.tuples(st.integers(1, 5), st.integers(0, 7), st.booleans()), min_size=1, max_size=60
    ),
)
def test_failed_requests_leave_the_saved_leads_fair(weights, steps):
    """Requests draw in parallel and end in any order, saved or failed; each draw settles
    the tickets of the requests that ended. Whatever happened, once nothing is given back
    and waiting, the saved leads are shared out within the bound."""
    rotation, running, ended, saved = Rotation(), {}, {}, []

    def settle():
        for ticket, used in ended.items():
            rotation.settle(ticket, used)
        ended.clear()

    def check_nothing_lost():
        drawn = Counter(saved) + rotation.in_flight() + Counter(rotation.returned)
        assert drawn == Counter(rotation.counts)

    for ticket, (leads, end, used) in enumerate(steps):
        settle()
        running[ticket] = take(rotation, weights, leads)
        rotation.reserve(ticket)
        check_nothing_lost()
        if end < len(running):  # one of the running requests ends
            done = sorted(running)[end]
            if used:
                saved.extend(running[done])
            ended[done] = used
            del running[done]
    for ticket, keys in running.items():  # the rest end: saved
        saved.extend(keys)
        ended[ticket] = True
    settle()
    while rotation.returned:  # the next leads take what was given back
        saved.append(rotation.next(weights))
    check_nothing_lost()
    total = sum(weights.values())
    k = len(weights)
    bound = Fraction(2 * k - 3, 2 * k - 2) if k > 1 else Fraction(0)
    counts = Counter(saved)
    for member, weight in weights.items():
        assert abs(counts[member] - Fraction(len(saved) * weight, total)) <= bound < 1
