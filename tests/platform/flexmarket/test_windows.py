"""The pure window rules, including the days when the clocks change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flexhub.platform.flexmarket.services.windows import Window, check_instruction, local_instant

ALL = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
LONDON = ZoneInfo("Europe/London")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def london(start_time: time, end_time: time) -> Window:
    return Window(
        start=date(2030, 1, 1),
        end=date(2031, 1, 1),
        service_days=ALL,
        bank_holidays="excluded",
        start_time=start_time,
        end_time=end_time,
        timezone="Europe/London",
        holiday_dates={date(2030, 12, 25)},
    )


def test_spring_forward_day_has_a_shorter_window():
    # 2030-03-31: 01:00 GMT becomes 02:00 BST, so 00:30-02:30 local is 00:30Z-01:30Z
    w = london(time(0, 30), time(2, 30))
    assert check_instruction(w, utc("2030-03-31T00:30:00"), utc("2030-03-31T01:30:00")) == {}
    assert set(check_instruction(w, utc("2030-03-31T00:30:00"), utc("2030-03-31T02:00:00"))) == {
        "end"
    }


def test_fall_back_day_has_a_longer_window():
    # 2030-10-27: 02:00 BST becomes 01:00 GMT, so 00:30-02:30 local is 23:30Z-02:30Z
    w = london(time(0, 30), time(2, 30))
    assert check_instruction(w, utc("2030-10-26T23:30:00"), utc("2030-10-27T02:30:00")) == {}
    assert check_instruction(w, utc("2030-10-27T02:30:00"), utc("2030-10-27T03:00:00")) == {
        "start": "is outside the obligation's service window times "
        "(00:30:00 to 02:30:00 Europe/London)"
    }


def test_whole_day_windows_and_holidays():
    w = london(time(0), time(0))
    assert check_instruction(w, utc("2030-07-01T00:00:00"), utc("2030-07-01T22:59:00")) == {}
    assert "end" in check_instruction(w, utc("2030-07-01T22:00:00"), utc("2030-07-02T00:00:00"))
    refusal = check_instruction(w, utc("2030-12-25T10:00:00"), utc("2030-12-25T11:00:00"))
    assert "bank holiday" in refusal["start"]
    refusal = check_instruction(w, utc("2031-01-01T10:00:00"), utc("2031-01-01T11:00:00"))
    assert "dates" in refusal["start"]


def test_a_window_opening_in_the_skipped_hour_opens_when_the_clocks_jump():
    # 2030-03-31: the clocks go from 01:00 GMT to 02:00 BST (01:00Z); a window from 01:30 to
    # 03:00 local is open from the jump (02:00 BST, 01:00Z) to 03:00 BST (02:00Z)
    w = london(time(1, 30), time(3, 0))
    assert check_instruction(w, utc("2030-03-31T01:00:00"), utc("2030-03-31T02:00:00")) == {}
    assert "start" in check_instruction(w, utc("2030-03-31T00:59:00"), utc("2030-03-31T01:30:00"))
    assert local_instant(date(2030, 3, 31), time(1, 30), LONDON) == utc("2030-03-31T01:00:00")
    # a window ending in the skipped hour closes at the jump too
    w = london(time(0, 0), time(1, 30))
    assert check_instruction(w, utc("2030-03-31T00:00:00"), utc("2030-03-31T01:00:00")) == {}
    assert "end" in check_instruction(w, utc("2030-03-31T00:00:00"), utc("2030-03-31T01:30:00"))


def test_a_window_ending_in_the_repeated_hour_closes_at_its_second_pass():
    # 2030-10-27: 01:00-02:00 local happens twice (BST 00:00Z-01:00Z, then GMT 01:00Z-02:00Z)
    w = london(time(0, 30), time(1, 30))
    assert check_instruction(w, utc("2030-10-26T23:30:00"), utc("2030-10-27T01:30:00")) == {}
    assert "end" in check_instruction(w, utc("2030-10-26T23:30:00"), utc("2030-10-27T01:31:00"))
    # and a window opening in it opens at its first pass
    w = london(time(1, 15), time(3, 0))
    assert check_instruction(w, utc("2030-10-27T00:15:00"), utc("2030-10-27T03:00:00")) == {}
    assert local_instant(date(2030, 10, 27), time(1, 15), LONDON) == utc("2030-10-27T00:15:00")
    last = local_instant(date(2030, 10, 27), time(1, 15), LONDON, last=True)
    assert last == utc("2030-10-27T01:15:00")


def test_local_instant_on_half_hour_shifts_and_ordinary_days():
    lord_howe = ZoneInfo("Australia/Lord_Howe")  # 02:00 +10:30 becomes 02:30 +11:00
    assert local_instant(date(2030, 10, 6), time(2, 15), lord_howe) == utc("2030-10-05T15:30:00")
    assert local_instant(date(2030, 7, 1), time(16), LONDON) == utc("2030-07-01T15:00:00")
    assert local_instant(date(2030, 7, 1), time(16), LONDON, last=True) == utc(
        "2030-07-01T15:00:00"
    )
