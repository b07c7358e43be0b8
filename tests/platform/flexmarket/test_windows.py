"""The pure window rules, including the days when the clocks change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flexhub.platform.flexmarket.windows import Window, check_instruction

ALL = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


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
