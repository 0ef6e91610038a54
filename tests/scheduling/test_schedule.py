"""Slot math, driven through simulated days with an explicit clock (nothing sleeps)."""
from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from facho.scheduling.schedule import (
    Schedule, describe, first_run_at, format_interval, humanize_remaining, parse_interval,
    plan_due, replan, validate_cron,
)

UTC = timezone.utc
DAY = datetime(2024, 5, 6, tzinfo=UTC)
HORIZON = timedelta(seconds=75)      # a 60 s tick plus margin
WINDOW = timedelta(minutes=5)        # catch-up window, well above tick + lease TTL
SPANISH = re.compile(r"^(Intervalo|Expresión cron|Zona horaria)")
IDEAL = {"30s": 2880, "5m": 288, "1h": 24, "1d": 1}


def drive(schedule, start, ticks, next_run_at=None, on_tick=None):
    """Run plan_due at each tick time, as a dispatcher would, feeding next_run_at back.
    Returns (claims, plans): claims are (tick_time, slot) pairs."""
    next_run_at = next_run_at or first_run_at(schedule, start)
    claims, plans = [], []
    for now in ticks:
        if on_tick:
            schedule, next_run_at = on_tick(now, schedule, next_run_at)
        plan = plan_due(schedule, next_run_at, now, HORIZON, WINDOW)
        claims += [(now, slot) for slot in plan.slots]
        plans.append(plan)
        next_run_at = plan.next_run_at
    return claims, plans


def minute_ticks(start, hours, jitter_seed=None, skip=None):
    """One tick a minute from start for `hours` (plus one), optionally 0-5 s late, none inside skip."""
    rng = random.Random(jitter_seed)
    for k in range(int(hours * 60) + 1):
        now = start + timedelta(minutes=k, seconds=rng.uniform(0, 5) if jitter_seed else 0)
        if skip is None or not skip[0] <= now < skip[1]:
            yield now


@pytest.mark.parametrize("raw", IDEAL)
def test_a_day_of_minute_ticks_claims_every_slot_once_on_its_exact_grid_instant(raw):
    schedule = Schedule.build(interval_raw=raw, anchor=DAY)
    ticks = minute_ticks(DAY - timedelta(minutes=1), 24, jitter_seed=7)  # irregular, like periodiq
    claims, plans = drive(schedule, DAY, ticks)

    today = [slot for _, slot in claims if slot < DAY + timedelta(days=1)]
    assert len(today) == IDEAL[raw]
    assert len(set(today)) == len(today)
    assert all((slot - DAY) % schedule.interval == timedelta(0) for slot in today)
    assert all(now <= slot < now + HORIZON for now, slot in claims), "every slot claimed on time"
    assert sum(plan.missed for plan in plans) == 0


def test_a_repeated_tick_claims_nothing_new():
    schedule = Schedule.build(interval_raw="30s", anchor=DAY)
    now = DAY + timedelta(minutes=3, seconds=2)
    first = plan_due(schedule, DAY, now, HORIZON, WINDOW)
    again = plan_due(schedule, first.next_run_at, now, HORIZON, WINDOW)
    assert len(first.slots) == 9 and again.slots == ()
    assert again.next_run_at == first.next_run_at


@pytest.mark.parametrize("raw", IDEAL)
def test_three_hours_down_sends_one_run_and_counts_the_rest_as_missed(raw):
    schedule = Schedule.build(interval_raw=raw, anchor=DAY + timedelta(hours=7))
    down = (DAY + timedelta(hours=6), DAY + timedelta(hours=9))
    claims, plans = drive(schedule, DAY, minute_ticks(DAY, 24, skip=down), next_run_at=DAY)

    today = [slot for _, slot in claims if slot < DAY + timedelta(days=1)]
    coalesced = [plan for plan in plans if plan.coalesced]
    assert len(coalesced) == 1, "the backlog coalesces once, on the first tick back"
    resumed = coalesced[0]
    assert resumed.now == down[1]
    assert [slot for slot in resumed.slots if slot <= down[1]] == [schedule.slot_at_or_before(down[1])]
    assert len(set(today)) == len(today)
    assert len(today) + sum(plan.missed for plan in plans) == IDEAL[raw]


def test_after_three_hours_down_a_30s_job_runs_its_latest_slot_and_misses_359():
    schedule = Schedule.build(interval_raw="30s", anchor=DAY)
    resume = DAY + timedelta(hours=9)
    plan = plan_due(schedule, DAY + timedelta(hours=6, seconds=30), resume, HORIZON, WINDOW)
    assert plan.coalesced and plan.missed == 359 and not plan.missed_capped
    assert plan.slots == (resume, resume + timedelta(seconds=30), resume + timedelta(seconds=60))
    assert plan.delay_ms(plan.slots[0]) == 0 and plan.delay_ms(plan.slots[2]) == 60_000
    assert plan.next_run_at == resume + timedelta(seconds=90)


def test_a_short_failover_inside_the_window_runs_every_late_slot():
    schedule = Schedule.build(interval_raw="30s", anchor=DAY)
    plan = plan_due(schedule, DAY, DAY + timedelta(minutes=2), HORIZON, WINDOW)
    assert not plan.coalesced and plan.missed == 0
    assert plan.slots[:5] == tuple(DAY + timedelta(seconds=30 * k) for k in range(5))


@pytest.mark.parametrize("old, new, expected", [
    ("5m", "1h", [DAY + timedelta(hours=h) for h in range(13, 24)]),
    ("1h", "5m", [DAY + timedelta(minutes=m) for m in range(12 * 60 + 5, 24 * 60, 5)]),
])
def test_changing_the_interval_mid_day_replans_on_the_new_grid(old, new, expected):
    edited_at = DAY + timedelta(hours=12, seconds=30)

    def edit(now, schedule, next_run_at):
        if now != edited_at:
            return schedule, next_run_at
        changed = Schedule.build(interval_raw=new, anchor=DAY)
        return changed, replan(changed, now)

    ticks = [DAY + timedelta(minutes=k, seconds=30) for k in range(-1, 24 * 60)]
    claims, _ = drive(Schedule.build(interval_raw=old, anchor=DAY), DAY, ticks, on_tick=edit)
    slots = [slot for _, slot in claims if slot < DAY + timedelta(days=1)]
    before = [slot for now, slot in claims if now < edited_at]
    after = [slot for now, slot in claims if now >= edited_at and slot < DAY + timedelta(days=1)]

    assert len(set(slots)) == len(slots)
    old_grid = Schedule.build(interval_raw=old, anchor=DAY)
    assert before == list(old_grid.slots_between(DAY, DAY + timedelta(hours=12, seconds=1)))
    assert after == expected
    assert max(before) < min(after)


def test_a_future_anchor_is_where_an_interval_job_starts():
    start = DAY + timedelta(hours=3, minutes=17)
    schedule = Schedule.build(interval_raw="1h", anchor=start)
    assert first_run_at(schedule, DAY) == start
    assert first_run_at(schedule, start + timedelta(seconds=1)) == start + timedelta(hours=1)


def local_dates(slots, zone):
    return [slot.astimezone(ZoneInfo(zone)).date() for slot in slots]


@pytest.mark.parametrize("zone, expr, around, jump_utc", [
    ("Europe/Madrid", "0 2 * * *", datetime(2024, 3, 31, tzinfo=UTC), datetime(2024, 3, 31, 1, tzinfo=UTC)),
    ("America/Santiago", "0 0 * * *", datetime(2024, 9, 8, tzinfo=UTC), datetime(2024, 9, 8, 4, tzinfo=UTC)),
])
def test_a_daily_cron_at_a_time_skipped_by_spring_forward_runs_once_at_the_jump(zone, expr, around, jump_utc):
    schedule = Schedule.build(cron_expr=expr, cron_tz=zone)
    claims, _ = drive(schedule, around - timedelta(days=1),
                      minute_ticks(around - timedelta(days=1), 72, jitter_seed=3))
    slots = [slot for _, slot in claims]
    dates = local_dates(slots, zone)
    assert len(dates) >= 3
    assert dates == [dates[0] + timedelta(days=i) for i in range(len(dates))], "exactly once per local day"
    assert jump_utc in slots
    assert jump_utc.astimezone(ZoneInfo(zone)).hour == (3 if zone == "Europe/Madrid" else 1)


@pytest.mark.parametrize("zone, expr, around, first_occurrence", [
    ("Europe/Madrid", "0 2 * * *", datetime(2024, 10, 27, tzinfo=UTC), datetime(2024, 10, 27, 0, tzinfo=UTC)),
    ("America/Santiago", "30 23 * * *", datetime(2024, 4, 6, 12, tzinfo=UTC),
     datetime(2024, 4, 7, 2, 30, tzinfo=UTC)),
])
def test_a_daily_cron_at_a_repeated_time_runs_once_at_its_first_occurrence(zone, expr, around, first_occurrence):
    schedule = Schedule.build(cron_expr=expr, cron_tz=zone)
    claims, _ = drive(schedule, around - timedelta(days=1),
                      minute_ticks(around - timedelta(days=1), 72, jitter_seed=5))
    slots = [slot for _, slot in claims]
    dates = local_dates(slots, zone)
    assert len(dates) >= 3
    assert dates == [dates[0] + timedelta(days=i) for i in range(len(dates))], "exactly once per local day"
    assert first_occurrence in slots
    assert first_occurrence + timedelta(hours=1) not in slots


def test_times_inside_the_spring_forward_gap_all_run_once_at_the_jump():
    madrid = ZoneInfo("Europe/Madrid")
    start = datetime(2024, 3, 31, tzinfo=madrid)
    jump = datetime(2024, 3, 31, 1, tzinfo=UTC)  # 02:00 CET becomes 03:00 CEST
    half_past = Schedule.build(cron_expr="30 2 * * *", cron_tz="Europe/Madrid")
    assert list(half_past.slots_between(start, start + timedelta(days=1))) == [jump]
    around = Schedule.build(cron_expr="*/30 1-3 * * *", cron_tz="Europe/Madrid")
    assert list(around.slots_between(start, start + timedelta(days=1))) == [
        jump - timedelta(minutes=60), jump - timedelta(minutes=30), jump, jump + timedelta(minutes=30)]


def test_an_hourly_cron_runs_once_per_wall_hour_on_dst_days():
    schedule = Schedule.build(cron_expr="0 * * * *", cron_tz="Europe/Madrid")
    madrid = ZoneInfo("Europe/Madrid")

    def day(y, m, d):
        start = datetime(y, m, d, tzinfo=madrid)
        return start, start + timedelta(days=1)  # wall-clock arithmetic: local midnight to midnight

    assert len(list(schedule.slots_between(*day(2024, 3, 31)))) == 23   # 02:00 does not exist
    assert len(list(schedule.slots_between(*day(2024, 10, 27)))) == 24  # 02:00 twice, runs once
    assert len(list(schedule.slots_between(*day(2024, 5, 6)))) == 24


def test_an_interval_job_keeps_absolute_time_across_dst():
    madrid = ZoneInfo("Europe/Madrid")
    start, end = datetime(2024, 10, 27, tzinfo=madrid), datetime(2024, 10, 28, tzinfo=madrid)
    schedule = Schedule.build(interval_raw="1h", anchor=start)
    assert len(list(schedule.slots_between(start, end))) == 25


def test_cron_slot_lookups_agree_with_the_slot_walk():
    schedule = Schedule.build(cron_expr="*/20 1-3 * * *", cron_tz="Europe/Madrid")
    start = datetime(2024, 10, 26, 22, tzinfo=UTC)
    slots = list(schedule.slots_between(start, start + timedelta(hours=8)))
    for earlier, later in zip(slots, slots[1:]):
        assert schedule.next_slot_after(earlier) == later
        assert schedule.slot_at_or_before(later - timedelta(seconds=1)) == earlier
        assert schedule.slot_at_or_before(later) == later


def test_a_backlog_of_cron_slots_coalesces_too():
    schedule = Schedule.build(cron_expr="*/10 * * * *", cron_tz="America/Lima")
    plan = plan_due(schedule, DAY, DAY + timedelta(hours=3, minutes=5), HORIZON, WINDOW)
    assert plan.coalesced and plan.missed == 18
    assert plan.slots == (DAY + timedelta(hours=3),)
    assert plan.next_run_at == DAY + timedelta(hours=3, minutes=10)


def test_schedule_needs_exactly_one_kind():
    with pytest.raises(ValueError, match="exactamente uno"):
        Schedule.build(interval_raw="5m", cron_expr="* * * * *", anchor=DAY)
    with pytest.raises(ValueError, match="exactamente uno"):
        Schedule.build()
    with pytest.raises(ValueError, match="anclaje"):
        Schedule.build(interval_raw="5m")


def test_naive_datetimes_are_refused():
    schedule = Schedule.build(interval_raw="5m", anchor=DAY)
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_due(schedule, DAY, datetime(2024, 5, 6), HORIZON, WINDOW)


@pytest.mark.parametrize("raw, text", [
    ("30s", "cada 30 segundos"), ("1s", "cada segundo"), ("5m", "cada 5 minutos"), ("60m", "cada hora"),
    ("2h", "cada 2 horas"), ("1d", "cada día"), ("90s", "cada 90 segundos"), ("3d", "cada 3 días"),
])
def test_describe_interval_in_spanish(raw, text):
    assert describe(Schedule.build(interval_raw=raw, anchor=DAY)) == text


def test_describe_cron_in_spanish():
    assert describe(Schedule.build(cron_expr="0  2 * * *")) == "cron 0 2 * * * (America/Lima)"


@pytest.mark.parametrize("seconds, text", [
    (270, "en 4 min 30 s"), (-10, "vencida hace 10 s"), (0.4, "ahora"), (300, "en 5 min"),
    (3600 + 125, "en 1 h 2 min"), (86400 * 2 + 3600 * 5 + 7, "en 2 d 5 h"), (-3600, "vencida hace 1 h"),
])
def test_humanize_remaining(seconds, text):
    assert humanize_remaining(timedelta(seconds=seconds)) == text


@pytest.mark.parametrize("raw, seconds", [("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400), (" 7m ", 420)])
def test_parse_interval_accepts_the_documented_forms(raw, seconds):
    assert parse_interval(raw) == timedelta(seconds=seconds)


@pytest.mark.parametrize("raw", ["0s", "0d", "5", "m", "5 m", "5M", "-5m", "1.5h", "5w", "", "366d", "٣m"])
def test_parse_interval_refuses_in_spanish(raw):
    with pytest.raises(ValueError) as refused:
        parse_interval(raw)
    assert SPANISH.match(str(refused.value))


@pytest.mark.parametrize("expr, tz", [
    ("0 2 * *", "America/Lima"), ("0 2 * * * *", "America/Lima"), ("61 * * * *", "America/Lima"),
    ("0 0 31 2 *", "America/Lima"), ("H * * * *", "America/Lima"), ("@daily", "America/Lima"),
    ("0 2 * * *", "Marte/Olympus"), ("0 2 * * *", ""), ("0 2 * * *", "../../etc/passwd"),  # repo-path: bad input
])
def test_validate_cron_refuses_in_spanish(expr, tz):
    with pytest.raises(ValueError) as refused:
        validate_cron(expr, tz)
    assert SPANISH.match(str(refused.value))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=12), st.from_regex(r"-?[0-9]{0,12}[smhdSMHDw ]?", fullmatch=True)))
def test_parse_interval_garbage_only_ever_raises_spanish_value_errors(raw):
    try:
        parsed = parse_interval(raw)
    except ValueError as refused:
        assert SPANISH.match(str(refused))
    else:
        assert timedelta(0) < parsed <= timedelta(days=365)
        assert parse_interval(format_interval(parsed)) == parsed


_CRON_TOKEN = st.text(alphabet="0123456789*/,-LW#?HJANFEBMONSUN", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), st.lists(_CRON_TOKEN, min_size=4, max_size=6).map(" ".join)),
       st.sampled_from(["America/Lima", "Europe/Madrid", "UTC", "", "Nope/Nope", "../x", "a" * 300]))
def test_validate_cron_garbage_only_ever_raises_spanish_value_errors(expr, tz):
    try:
        normalised = validate_cron(expr, tz)
    except ValueError as refused:
        assert SPANISH.match(str(refused))
    else:
        schedule = Schedule(cron_expr=normalised, cron_tz=tz)
        assert schedule.next_slot_after(DAY) > DAY


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 7200), st.lists(st.integers(1, 900), min_size=1, max_size=60), st.integers(0, 3599))
def test_any_tick_sequence_runs_or_misses_every_slot_exactly_once(interval_s, gaps, phase_s):
    schedule = Schedule(interval=timedelta(seconds=interval_s), anchor=DAY + timedelta(seconds=phase_s))
    next_run_at = first_run_at(schedule, DAY)
    begin, now, claimed, missed = next_run_at, DAY, [], 0
    for gap in gaps:
        now += timedelta(seconds=gap)
        plan = plan_due(schedule, next_run_at, now, HORIZON, WINDOW)
        assert all(slot < now + HORIZON for slot in plan.slots)
        claimed += plan.slots
        missed += plan.missed
        next_run_at = plan.next_run_at
    assert claimed == sorted(set(claimed))
    expected, _ = schedule.count_between(begin, next_run_at)
    assert len(claimed) + missed == expected


def test_an_edit_skips_only_the_new_slots_that_meet_a_row_it_cannot_remove():
    edit = DAY + timedelta(hours=5, seconds=12)
    new = Schedule.build(interval_raw="30s", anchor=edit)
    assert replan(new, edit) == edit                                   # nothing in the way
    assert replan(new, edit, [edit + timedelta(seconds=15)]) == edit   # off the new grid
    assert replan(new, edit, [edit]) == edit + timedelta(seconds=30)   # already ran there
    assert replan(new, edit, [edit - timedelta(seconds=30)]) == edit   # before the edit
