"""GET /api/courses, /api/packages; POST /api/courses/match, /api/quotes, /api/recommendations.

The figures asserted here are the ones the source page states (官方定价, 课时), so a user who reads
the page and asks the API sees the same numbers.
"""

from __future__ import annotations

import pytest

from bot.courses.catalogue import get_catalogue
from bot.courses.recommend import QUESTIONS


def _package(client, name: str) -> dict:
    return next(p for p in client.get("/api/packages").json()["packages"] if p["name"] == name)


# -- catalogue -------------------------------------------------------------------------------------


def test_packages_carry_the_official_prices(client):
    # Source: "官方定价 | 全科:¥6280 单科:¥2980(实务) 单科:¥2780(公共) | 全科:¥4880 单科:¥2380(实务) 单科:¥2180(公共)"
    assert _package(client, "无忧取证班")["prices"] == {"full": 6280, "single_practice": 2980, "single_public": 2780}
    assert _package(client, "AI私塾班")["prices"] == {"full": 4880, "single_practice": 2380, "single_public": 2180}


def test_packages_carry_validity_guarantee_and_who_they_suit(client):
    wuyou, ai = _package(client, "无忧取证班"), _package(client, "AI私塾班")
    assert wuyou["validity_years"] == 2 and ai["validity_years"] == 1
    assert "退费" in wuyou["guarantee"] and "免费重学" in ai["guarantee"]
    assert any("工作忙" in line for line in ai["suitable_for"])
    assert any("多次考试未通过" in line for line in wuyou["suitable_for"])


def test_courses_list_classes_with_hours_as_the_page_states_them(client):
    body = client.get("/api/courses").json()
    classes = {c["name"]: c for c in body["classes"]}
    assert classes["导学规划班"]["hours_text"] == "1小时/科"
    assert classes["私教精讲班"]["hours_min"] == 24
    # The page also says 24-36 for this class in another row: the catalogue keeps that note.
    assert any("24-36" in note for note in classes["私教精讲班"]["source_notes"])
    subjects = {s["name"]: s for s in body["subjects"]}
    assert subjects["施工管理"]["kind"] == "公共" and subjects["建筑实务"]["kind"] == "实务"
    assert "packages" not in body


def test_missing_catalogue_is_a_503_in_chinese(client, monkeypatch, tmp_path):
    monkeypatch.setenv("CATALOGUE_PATH", str(tmp_path / "nowhere.yml"))
    response = client.get("/api/packages")
    assert response.status_code == 503
    assert "课程信息暂时无法读取" in response.json()["detail"]


# -- what the user's words name -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, packages, subjects",
    [
        ("报个无优班", ["无忧取证班"], []),
        ("换成ai私书班吧", ["AI私塾班"], []),
        ("法规和施管", [], ["施工管理", "法规相关知识"]),
        ("水利", [], ["水利水电实务"]),
        ("公路跟机电两门", [], ["机电实务", "公路实务"]),
    ],
)
def test_match_understands_typos_and_short_names(client, text, packages, subjects):
    body = client.post("/api/courses/match", json={"text": text}).json()
    assert [p["name"] for p in body["packages"]] == packages
    assert [s["name"] for s in body["subjects"]] == subjects


def test_match_expands_quanke_and_says_a_specialty_is_still_needed(client):
    only_full = client.post("/api/courses/match", json={"text": "报全科"}).json()
    assert {s["kind"] for s in only_full["subjects"]} == {"公共"} and len(only_full["subjects"]) == 2
    assert only_full["needs_practice"] is True
    with_specialty = client.post("/api/courses/match", json={"text": "全科，建筑的"}).json()
    assert [s["name"] for s in with_specialty["subjects"]] == ["施工管理", "法规相关知识", "建筑实务"]
    assert with_specialty["needs_practice"] is False


# -- quotes ---------------------------------------------------------------------------------------------


def test_full_course_is_priced_as_quanke_and_says_what_singles_would_cost(client):
    body = client.post(
        "/api/quotes", json={"package": "无忧取证班", "subjects": ["施工管理", "法规相关知识", "建筑实务"]}
    ).json()
    assert body["total"] == 6280 and body["full_applied"] is True
    assert [line["kind"] for line in body["lines"]] == ["full"]
    assert "2780+2780+2980=¥8540" in body["notes"][0] and "¥6280" in body["notes"][0]


def test_quanke_plus_an_extra_specialty_is_full_plus_a_single(client):
    body = client.post(
        "/api/quotes", json={"package": "ai_sishu", "subjects": ["shizheng", "jianzhu", "fagui", "shigong_guanli"]}
    ).json()
    assert body["total"] == 4880 + 2380
    assert [(line["kind"], line["price"]) for line in body["lines"]] == [("full", 4880), ("single", 2380)]


def test_single_subjects_are_priced_per_subject(client):
    body = client.post("/api/quotes", json={"package": "wuyou", "subjects": ["法规相关知识", "市政实务"]}).json()
    assert body["total"] == 2780 + 2980 and body["full_applied"] is False and body["notes"] == []


def test_singles_dearer_than_quanke_are_pointed_out(client):
    body = client.post(
        "/api/quotes", json={"package": "wuyou", "subjects": ["建筑实务", "市政实务", "机电实务"]}
    ).json()
    assert body["total"] == 3 * 2980
    note = body["notes"][0]
    assert "¥8940" in note and "全科价¥6280" in note and "施工管理" in note and "法规相关知识" in note
    assert body["full_alternative_total"] == 6280 + 2 * 2980


def test_unknown_package_or_subject_is_a_422_listing_the_choices(client):
    bad_package = client.post("/api/quotes", json={"package": "VIP班", "subjects": ["建筑实务"]})
    assert bad_package.status_code == 422
    assert "VIP班" in bad_package.json()["detail"] and "无忧取证班" in bad_package.json()["detail"]
    bad_subject = client.post("/api/quotes", json={"package": "wuyou", "subjects": ["消防实务"]})
    assert bad_subject.status_code == 422 and "消防实务" in bad_subject.json()["detail"]
    assert "水利水电实务" in bad_subject.json()["detail"]


def test_empty_subjects_is_a_422_that_says_to_choose_one(client):
    response = client.post("/api/quotes", json={"package": "wuyou", "subjects": []})
    assert response.status_code == 422
    assert "请至少选择一个科目" in response.json()["detail"]


# -- recommendations ---------------------------------------------------------------------------------


def test_every_cue_word_still_occurs_in_the_catalogue():
    """A catalogue edit that drops a phrase would silently switch a question off."""
    lines = [line for p in get_catalogue().packages for line in p.suitable_for]
    for question, answers in QUESTIONS.items():
        for cues in answers.values():
            for cue in cues:
                assert any(cue in line for line in lines), f"{question}: cue {cue!r} matches no suitable_for line"


def test_failed_several_times_and_wanting_all_subjects_recommends_wuyou_with_its_own_reasons(client):
    body = client.post(
        "/api/recommendations",
        json={
            "zero_basis": False,
            "failed_before": True,
            "busy": False,
            "site_experience": True,
            "subjects": ["施工管理", "法规相关知识", "市政实务"],
        },
    ).json()
    assert body["recommended"] == ["wuyou"] and body["decided"] is True and body["open_questions"] == []
    best = body["packages"][0]
    assert any("多次考试未通过" in r for r in best["reasons"]) and any("全部考试" in r for r in best["reasons"])
    assert set(best["reasons"]) <= set(_package(client, "无忧取证班")["suitable_for"])
    assert best["quote"]["total"] == 6280


def test_busy_without_site_experience_recommends_ai_sishu_and_stops_asking(client):
    body = client.post(
        "/api/recommendations",
        json={"zero_basis": False, "busy": True, "site_experience": False, "failed_before": False},
    ).json()
    assert body["recommended"] == ["ai_sishu"]
    # The subjects are not known yet, but they could not change the answer: no more questions.
    assert body["decided"] is True and body["open_questions"] == []
    assert {"现场经验不足，没有实操案例", "平时工作忙，想要快速掌握考试要点"} <= set(body["packages"][0]["reasons"])


def test_one_answer_is_not_enough_so_the_rest_is_still_asked(client):
    body = client.post("/api/recommendations", json={"zero_basis": True}).json()
    assert body["decided"] is False
    assert "failed_before" in body["open_questions"] and "zero_basis" not in body["open_questions"]


def test_no_matching_situation_gives_both_packages_not_a_made_up_preference(client):
    body = client.post(
        "/api/recommendations",
        json={
            "zero_basis": False,
            "failed_before": False,
            "busy": False,
            "site_experience": True,
            "subjects": ["建筑实务"],
        },
    ).json()
    assert sorted(body["recommended"]) == ["ai_sishu", "wuyou"]
    assert all(p["reasons"] == [] for p in body["packages"])


@pytest.mark.parametrize("subjects", [[1, 2], "", [""], {"a": 1}])
def test_subjects_that_are_not_a_list_of_names_get_one_clear_message(client, subjects):
    response = client.post("/api/quotes", json={"package": "wuyou", "subjects": subjects})
    assert response.status_code == 422
    assert "科目" in response.json()["detail"] and "字段" not in response.json()["detail"]
