"""Chinese working days: the published State Council schedule where it is known, an estimate after.

`chinesecalendar` knows public holidays *and* make-up workdays (调休上班日) for the years whose
schedule has been published (2004-2026 in 1.11.0) and raises NotImplementedError outside them.
Past its data we fall back to the `holidays` package's CN statutory holidays plus weekends. That
fallback cannot know the make-up Saturdays/Sundays the State Council has not announced yet, so
every result that touched it says so (`official=False`, `estimated_from`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
import holidays


@dataclass(frozen=True)
class WorkdayResult:
    date: date
    official: bool  # every counted day came from the published schedule
    estimated_from: date | None  # first day that had to be estimated, if any


class WorkdayCalendar:
    def __init__(
        self,
        official_is_workday: Callable[[date], bool] = chinese_calendar.is_workday,
        fallback_holidays: Callable[[int], holidays.HolidayBase] | None = None,
    ):
        self._official = official_is_workday
        self._fallback_factory = fallback_holidays or (lambda year: holidays.country_holidays("CN", years=year))
        self._fallback_years: dict[int, holidays.HolidayBase] = {}

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(is it a working day, does the answer come from the published schedule)."""
        try:
            return bool(self._official(day)), True
        except NotImplementedError:
            pass
        if day.year not in self._fallback_years:
            self._fallback_years[day.year] = self._fallback_factory(day.year)
        return day.weekday() < 5 and day not in self._fallback_years[day.year], False

    def add_working_days(self, start: date, count: int) -> WorkdayResult:
        """The `count`-th working day after `start` (the start day itself is not counted).

        For "受理后N个工作日内审查": accepted on `start`, the N-th following working day is the
        last day of the period.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        day, seen, estimated_from = start, 0, None
        while seen < count:
            day += timedelta(days=1)
            workday, official = self.is_workday(day)
            if not official and estimated_from is None:
                estimated_from = day
            if workday:
                seen += 1
        return WorkdayResult(day, estimated_from is None, estimated_from)
