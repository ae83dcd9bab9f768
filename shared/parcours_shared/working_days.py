"""Working days in France: Monday to Friday, except the public holidays (from the maintained
``holidays`` package, which follows the law as it changes). Deadlines of the single window, and
reporting's responsiveness figures, count in them."""
import functools
from datetime import timedelta

import holidays


@functools.cache
def _public_holidays(year):
    return frozenset(holidays.France(years=[year]))


def is_working_day(day):
    return day.weekday() < 5 and day not in _public_holidays(day.year)


def working_days_between(start, end):
    """How many working days passed from ``start`` to ``end`` (dates): the days after
    ``start`` up to ``end`` included that are working days. 0 if ``end`` is not after it."""
    days, day = 0, start
    while day < end:
        day += timedelta(days=1)
        days += is_working_day(day)
    return days


def add_working_days(start, days):
    """The date ``days`` working days after ``start`` (a date)."""
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        left -= is_working_day(day)
    return day
