"""Fujian 二级建造师 registration rules as data (rules.yml) and code that computes a user's own plan.

rules.py      load and cross-check rules.yml
situation.py  the user's facts, date arithmetic, contradiction checks
workdays.py   Chinese working days (published schedule, estimated past it)
planner.py    eligibility, continuing education, approval date, steps, materials, what to ask next
schemas.py    request/response bodies of POST /api/registration/plan
"""

from bot.registration.planner import Planner
from bot.registration.rules import Rulebook, load_rulebook
from bot.registration.situation import IssueDate, Situation, SituationError, check_situation
from bot.registration.workdays import WorkdayCalendar

__all__ = [
    "IssueDate",
    "Planner",
    "Rulebook",
    "Situation",
    "SituationError",
    "WorkdayCalendar",
    "check_situation",
    "load_rulebook",
]
