"""POST /api/registration/plan through the real app (TestClient), today pinned to 2026-11-25."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.routes.registration import today_in_china
from bot.settings import Settings

URL = "/api/registration/plan"
TODAY = date(2026, 11, 25)


@pytest.fixture
def app(tmp_path):
    return create_app(Settings(environment="test", database_url=f"sqlite:///{tmp_path}/t.db"))


@pytest.fixture
def client(app):
    app.dependency_overrides[today_in_china] = lambda: TODAY
    with TestClient(app) as c:
        yield c


def post(client, **body):
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_certificate_from_2019_re_registration_needs_120_or_60_hours(client):
    body = post(client, business_type="重新注册", certificate_issue_date="2019")
    ce = body["continuing_education"]
    assert ce["required"] is True and ce["hours_by_role"] == {"main": 120, "added": 60}
    assert "已超过三年" in ce["reasons"][0] and "2019年" in ce["reasons"][0]
    assert body["approval"]["approver"] == "省注册中心" and body["approval"]["working_days"] == 10
    # still unknown and worth asking: age and employer (eligibility), main/added (exact hours)
    assert [q["field"] for q in body["questions"]] == ["age", "employer_type", "specialty_role"]


def test_66_year_old_is_told_not_eligible_and_why(client):
    body = post(client, age=66)
    assert body["eligible"] is False
    assert "年龄不超过65周岁" in body["eligibility_reasons"][0] and "66周岁" in body["eligibility_reasons"][0]
    assert body["questions"] == []


def test_full_plan_for_initial_registration(client):
    body = post(
        client,
        business_type="initial",
        certificate_issue_date="2020-06-30",
        specialty_role="main",
        age=35,
        employer_type="construction",
        first_class_authenticated=False,
    )
    assert body["eligible"] is True
    assert body["continuing_education"]["hours"] == 120
    assert [s["id"] for s in body["steps"]] == [
        "account",
        "authenticate",
        "continuing_education",
        "materials",
        "apply",
        "employer_confirm",
        "review",
        "certificate",
    ]
    assert all(s["title"] and s["sections"] for s in body["steps"])
    assert body["approval"]["decision_by"] == "2026-12-09" and body["approval"]["calendar"] == "official"
    assert {m["name"] for m in body["materials"]} >= {"一寸白底彩色证件照", "本人签名照", "手持身份证照"}
    assert body["questions"] == []
    assert any(s["section"] == "注意事项第14条" for s in body["sources"])


def test_renewal_decided_by_the_city_in_one_working_day_across_national_day(client):
    body = post(client, business_type="延续注册", submission_date="2026-09-30", age=50, employer_type="监理公司")
    approval = body["approval"]
    assert approval["approver"] == "设区市建设主管部门" and approval["working_days"] == 1
    assert approval["decision_by"] == "2026-10-08"
    assert "如超过每日最大受理量则顺延" in approval["summary"]
    assert body["situation"]["employer_type"] == "supervision"


def test_decision_date_past_2026_is_marked_as_an_estimate(client):
    body = post(client, business_type="initial", submission_date="2026-12-28")
    approval = body["approval"]
    assert approval["calendar"] == "estimated" and approval["decision_by"] == "2027-01-12"
    assert any("调休" in n for n in approval["notes"])


def test_submission_date_defaults_to_today(client):
    assert post(client, business_type="renewal")["approval"]["submission_date"] == TODAY.isoformat()


def test_default_today_is_the_date_in_beijing(tmp_path):
    app = create_app(Settings(environment="test", database_url=f"sqlite:///{tmp_path}/t.db"))
    with TestClient(app) as c:
        before = datetime.now(ZoneInfo("Asia/Shanghai")).date()
        got = c.post(URL, json={"business_type": "renewal"}).json()["approval"]["submission_date"]
        after = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert got in (before.isoformat(), after.isoformat())


def test_changing_employer_is_explained_as_cancel_then_re_register(client):
    body = post(client, business_type="换单位")
    assert body["situation"]["business_type"] == "change_employer"
    assert [s["id"] for s in body["steps"]][:2] == ["cancel_apply", "cancel_employer"]


def test_cancellation_needs_no_certificate_questions(client):
    body = post(client, business_type="注销")
    assert body["questions"] == [] and body["continuing_education"] is None
    assert body["approval"]["approver"] == "聘用企业"


def test_irrelevant_facts_of_a_conversation_can_be_dropped(client):
    body = post(
        client, business_type="注销", certificate_issue_date="2019", specialty_role="增项", drop_irrelevant=True
    )
    assert [f["field"] for f in body["ignored_fields"]] == ["certificate_issue_date", "specialty_role"]
    assert "注销不涉及继续教育" in body["ignored_fields"][0]["reason"]


@pytest.mark.parametrize(
    "body, words",
    [
        ({"certificate_issue_date": "2026-12-01"}, "晚于今天"),
        ({"certificate_issue_date": "2019-13-01"}, "看不懂"),
        ({"certificate_issue_date": "去年"}, "看不懂"),
        ({"age": 17}, "18到120"),
        ({"age": 121}, "18到120"),
        ({"age": "六十"}, "整数周岁"),
        ({"age": 40.5}, "整数周岁"),
        ({"age": True}, "整数周岁"),
        ({"business_type": "变更注册业务二"}, "不认识的业务类型"),
        ({"business_type": "注销", "certificate_issue_date": "2019"}, "注销不涉及继续教育"),
        ({"business_type": "cancellation", "specialty_role": "main"}, "注销不涉及继续教育"),
        ({"business_type": "cancellation", "added_to_main_after_first_class": True}, "注销不涉及继续教育"),
        ({"added_to_main_after_first_class": True, "specialty_role": "added"}, "矛盾"),
        ({"certificate_issue_date": "2021", "submission_date": "2020-06-01"}, "早于证书签发日期"),
        ({"submission_date": "2026/12/01"}, "提交日期"),
        ({"employer_type": "外卖平台"}, "不认识的受聘单位类型"),
        ({"specialty_role": "副项"}, "主项、增项"),
        ({"first_class_authenticated": "maybe"}, "true 或 false"),
        ({"agee": 40}, "不认识的字段：agee"),
    ],
)
def test_invalid_or_contradictory_input_is_a_422_with_a_chinese_reason(client, body, words):
    response = client.post(URL, json=body)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]


def test_a_body_that_is_not_an_object_is_a_422(client):
    response = client.post(URL, json=[1, 2])
    assert response.status_code == 422
    assert "JSON 对象" in response.json()["detail"]


def test_several_problems_are_all_reported(client):
    response = client.post(URL, json={"age": 130, "certificate_issue_date": "2030"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "18到120" in detail and "晚于今天" in detail
