"""The price rule (bot/courses/pricing.py), checked as properties over every choice of subjects.

The oracle below prices a choice by brute force: every way of covering exactly the chosen
subjects with at most one 全科 bundle (all 公共 subjects + any one chosen 实务) and singles for
the rest, cheapest first. The rule must always agree with it, whatever the prices.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.courses.catalogue import Catalogue, Prices, get_catalogue
from bot.courses.pricing import quote, single_price

CAT = get_catalogue()
SUBJECT_IDS = [s.id for s in CAT.subjects]
PUBLIC = {s.id for s in CAT.public_subjects}
PRACTICE = {s.id for s in CAT.practice_subjects}

choices = st.lists(st.sampled_from(SUBJECT_IDS), min_size=1, max_size=12)  # repeats and any order
packages = st.sampled_from([p.id for p in CAT.packages])


def oracle(cat: Catalogue, package_id: str, subject_ids) -> int:
    package = cat.package(package_id)
    chosen = set(subject_ids)
    singles = {sid: single_price(package, cat.subject(sid)) for sid in chosen}
    best = sum(singles.values())
    if PUBLIC <= chosen:
        for practice in chosen & PRACTICE:
            bundle = PUBLIC | {practice}
            best = min(best, package.prices.full + sum(p for sid, p in singles.items() if sid not in bundle))
    return best


@given(packages, choices)
def test_total_is_the_cheapest_way_to_buy_exactly_these_subjects(package_id, subject_ids):
    assert quote(CAT, package_id, subject_ids).total == oracle(CAT, package_id, subject_ids)


@given(packages, choices)
def test_lines_add_up_and_cover_each_chosen_subject_once(package_id, subject_ids):
    q = quote(CAT, package_id, subject_ids)
    assert q.total == sum(line.price for line in q.lines)
    covered = [sid for line in q.lines for sid in line.subject_ids]
    assert sorted(covered) == sorted(set(subject_ids))


@given(packages, choices)
def test_quanke_applies_exactly_when_both_public_subjects_and_a_specialty_are_chosen(package_id, subject_ids):
    q = quote(CAT, package_id, subject_ids)
    chosen = set(subject_ids)
    expected = PUBLIC <= chosen and bool(chosen & PRACTICE)
    assert q.full_applied is expected
    if expected:
        package = CAT.package(package_id)
        extra = len(chosen & PRACTICE) - 1
        assert q.total == package.prices.full + extra * package.prices.single_practice
        assert [line.kind for line in q.lines] == ["full"] + ["single"] * extra


@given(packages, choices, st.randoms(use_true_random=False))
def test_order_and_repeats_do_not_change_the_price(package_id, subject_ids, rnd):
    shuffled = list(subject_ids) + list(subject_ids)
    rnd.shuffle(shuffled)
    assert quote(CAT, package_id, shuffled).total == quote(CAT, package_id, subject_ids).total


@given(packages, choices, st.sampled_from(SUBJECT_IDS))
def test_adding_a_subject_never_makes_it_cheaper(package_id, subject_ids, extra):
    assert quote(CAT, package_id, [*subject_ids, extra]).total >= quote(CAT, package_id, subject_ids).total


@given(packages, choices)
def test_the_user_is_told_when_singles_cost_more_than_quanke(package_id, subject_ids):
    q = quote(CAT, package_id, subject_ids)
    full = q.package.prices.full
    if q.full_applied:
        # What the same three subjects would cost as singles, next to the 全科 price.
        assert len(q.notes) == 1 and f"¥{full}" in q.notes[0]
        assert q.total <= q.singles_total
    elif q.singles_total > full:
        assert len(q.notes) == 1
        assert f"¥{q.singles_total}" in q.notes[0] and f"全科价¥{full}" in q.notes[0]
        assert f"¥{q.full_alternative_total}" in q.notes[0]
    else:
        assert q.notes == ()
    assert q.total <= q.singles_total


# Any positive prices, not only today's: the rule must still pick the cheapest way.
price = st.integers(min_value=1, max_value=20_000)


@settings(max_examples=200)
@given(choices, price, price, price)
def test_rule_holds_for_any_price_list(subject_ids, full, single_practice, single_public):
    package = CAT.packages[0].model_copy(
        update={"prices": Prices(full=full, single_practice=single_practice, single_public=single_public)}
    )
    cat = CAT.model_copy(update={"packages": [package]})
    q = quote(cat, package.id, subject_ids)
    assert q.total == oracle(cat, package.id, subject_ids)
    assert q.total <= q.singles_total


def test_the_example_from_the_issue_three_singles_cost_8540_quanke_6280():
    q = quote(CAT, "wuyou", ["jianzhu", "shigong_guanli", "fagui"])
    assert q.singles_total == 2980 + 2780 + 2780 == 8540
    assert q.total == 6280 and q.full_applied
    assert "¥8540" in q.notes[0] and "省¥2260" in q.notes[0]


def test_empty_choice_and_unknown_ids_are_refused():
    with pytest.raises(ValueError):
        quote(CAT, "wuyou", [])
    with pytest.raises(KeyError):
        quote(CAT, "wuyou", ["xiaofang"])
    with pytest.raises(KeyError):
        quote(CAT, "vip", ["jianzhu"])
