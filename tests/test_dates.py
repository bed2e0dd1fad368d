"""Reading a record's date for dedup-articles --within-days: the calendar day as written, or none."""

from __future__ import annotations

import datetime

import pytest

from vocclean.dates import UNDATED, day_number

DAY = datetime.date(2022, 1, 25).toordinal()


@pytest.mark.parametrize(
    "value",
    [
        "20220125",
        "2022-01-25",
        "2022-01-25 23:59:59",
        "2022-01-25T11:36:29+08:00",
        "2022-01-25T01:00:00Z",
        " 2022/1/25",
        "2022.01.25",
        "2022年1月25日",
        "2022 年 1 月 25 日 星期二",
        1643068800,  # 2022-01-25 00:00 UTC, in seconds
        1643068800.5,
        1643068800000,  # in milliseconds
    ],
)
def test_dates_written_every_way_give_the_same_day(value):
    assert day_number(value) == DAY


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "unknown",
        "2022-13-01",
        "2022-02-30",
        "202201251",
        "25/01/2022",
        True,
        [2022],
        float("nan"),
        1e300,
    ],
)
def test_values_without_a_valid_date_are_undated(value):
    assert day_number(value) == UNDATED


def test_days_apart_is_a_difference_of_day_numbers():
    assert day_number("2024-03-04") - day_number("20230304") == 366  # 2024 is a leap year
    assert day_number("2024-03-01") - day_number("2024-02-28 23:00") == 2
