"""GET/POST /wechat with WeChat's server played by signed requests, Rasa and WeChat's API mocked at
their HTTP client boundaries (httpx.MockTransport): nothing here reaches WeChat or Rasa."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest
from wechat_helpers import (
    ACCOUNT,
    AES_KEY,
    API_BASE,
    OPENID,
    OTHER_OPENID,
    TOKEN,
    FakeRasa,
    FakeRedis,
    FakeWeChatApi,
    client_for,
    decrypt_reply,
    event_xml,
    media_xml,
    post_encrypted,
    post_plain,
    reply_fields,
    settings_for,
    sign,
    signed_query,
    text_xml,
    wait_until,
)
from wechatpy import parse_message

from bot import replies
from bot.wechat import protocol
from bot.wechat.dedup import MemoryTTLStore, RedisTTLStore
from bot.wechat.delivery import CustomerServiceClient, DeliveryError
from bot.wechat.replies import render, render_table, split_text


@pytest.fixture
def settings(tmp_path):
    return settings_for(tmp_path)


# --- server verification (GET) ---------------------------------------------------------------


def test_get_with_a_good_signature_echoes_echostr(settings):
    with client_for(settings, FakeRasa()) as client:
        response = client.get("/wechat", params=signed_query(echostr="4823947238947"))
    assert response.status_code == 200
    assert response.text == "4823947238947"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {**signed_query(echostr="x"), "signature": "0" * 40},
        {**signed_query(token="someone-elses-token"), "echostr": "x"},
        {"echostr": "x"},
    ],
)
def test_get_with_a_bad_or_missing_signature_is_403(settings, params):
    with client_for(settings, FakeRasa()) as client:
        response = client.get("/wechat", params=params)
    assert response.status_code == 403
    assert response.json()["detail"] == replies.WECHAT_BAD_SIGNATURE


def test_not_configured_is_503_with_a_clear_message(tmp_path):
    rasa = FakeRasa()
    with client_for(settings_for(tmp_path, wechat_token=""), rasa) as client:
        got = client.get("/wechat", params=signed_query(echostr="x"))
        posted = post_plain(client, text_xml("你好"))
    assert got.status_code == posted.status_code == 503
    assert "WECHAT_TOKEN" in posted.json()["detail"]
    assert rasa.received == []


# --- plaintext mode ----------------------------------------------------------------------------


def test_text_goes_to_rasa_and_comes_back_as_a_passive_text_reply(settings):
    rasa = FakeRasa(
        reply=[{"recipient_id": "x", "text": "证件照需要白底。"}, {"recipient_id": "x", "text": "还有别的问题吗？"}]
    )
    with client_for(settings, rasa) as client:
        response = post_plain(client, text_xml("证件照有什么要求"))
    assert response.status_code == 200
    reply = reply_fields(response)
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == ACCOUNT
    assert reply["MsgType"] == "text"
    assert reply["Content"] == "证件照需要白底。\n\n还有别的问题吗？"
    assert rasa.received == [
        {"sender": f"wx:{OPENID}", "message": "证件照有什么要求", "metadata": {"channel": "wechat"}}
    ]


def test_bad_signature_on_post_is_403_and_rasa_is_not_called(settings):
    rasa = FakeRasa()
    with client_for(settings, rasa) as client:
        response = post_plain(client, text_xml("你好"), **{**signed_query(), "signature": "f" * 40})
    assert response.status_code == 403
    assert rasa.received == []


@pytest.mark.parametrize("skew", [-1000, +1000])
def test_stale_or_future_timestamp_is_403_even_when_signed(settings, skew):
    rasa = FakeRasa()
    with client_for(settings, rasa) as client:
        response = post_plain(client, text_xml("你好"), **signed_query(timestamp=int(time.time()) + skew))
    assert response.status_code == 403
    assert rasa.received == []


def test_timestamp_within_the_window_is_accepted(settings):
    with client_for(settings, FakeRasa()) as client:
        response = post_plain(client, text_xml("你好"), **signed_query(timestamp=int(time.time()) - 200))
    assert response.status_code == 200


def test_rasa_down_gets_a_polite_passive_reply(settings):
    with client_for(settings, FakeRasa(fail=True)) as client:
        response = post_plain(client, text_xml("你好"))
    assert response.status_code == 200
    assert reply_fields(response)["Content"] == replies.ASSISTANT_UNAVAILABLE


def test_reply_text_cannot_break_out_of_its_cdata(settings):
    rasa = FakeRasa(reply=[{"text": "a]]><MsgType>news</MsgType>b\x07"}])
    with client_for(settings, rasa) as client:
        response = post_plain(client, text_xml("你好"))
    reply = reply_fields(response)
    assert reply["MsgType"] == "text" and reply["Content"] == "a]]><MsgType>news</MsgType>b"


# --- safe mode ---------------------------------------------------------------------------------


def test_safe_mode_message_is_decrypted_and_the_reply_encrypted(tmp_path):
    rasa = FakeRasa(reply=[{"text": "实名认证请在小程序完成。"}])
    with client_for(settings_for(tmp_path, wechat_aes_key=AES_KEY), rasa) as client:
        response = post_encrypted(client, text_xml("实名认证怎么弄"))
    assert response.status_code == 200
    assert "实名认证" not in response.text  # nothing in clear
    reply = decrypt_reply(response.text)
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == ACCOUNT
    assert reply["MsgType"] == "text" and reply["Content"] == "实名认证请在小程序完成。"
    assert rasa.received[0]["message"] == "实名认证怎么弄"


def test_safe_mode_with_a_bad_msg_signature_is_403(tmp_path):
    rasa = FakeRasa()
    with client_for(settings_for(tmp_path, wechat_aes_key=AES_KEY), rasa) as client:
        response = post_encrypted(client, text_xml("你好"), tamper=True)
    assert response.status_code == 403
    assert rasa.received == []


def test_plaintext_body_is_refused_when_safe_mode_is_configured(tmp_path):
    rasa = FakeRasa()
    with client_for(settings_for(tmp_path, wechat_aes_key=AES_KEY), rasa) as client:
        response = post_plain(client, text_xml("你好"))
    assert response.status_code == 403
    assert rasa.received == []


def test_safe_mode_without_an_aes_key_is_503(settings):
    with client_for(settings, FakeRasa()) as client:
        response = post_encrypted(client, text_xml("你好"))
    assert response.status_code == 503


def test_safe_mode_with_garbage_cipher_text_is_400(tmp_path):
    with client_for(settings_for(tmp_path, wechat_aes_key=AES_KEY), FakeRasa()) as client:
        encrypt = "bm90IHJlYWxseSBjaXBoZXIgdGV4dA=="
        ts, nonce = str(int(time.time())), "n1"
        params = {
            **signed_query(timestamp=int(ts), nonce=nonce),
            "encrypt_type": "aes",
            "msg_signature": sign(TOKEN, ts, nonce, encrypt),
        }
        response = client.post("/wechat", params=params, content=f"<xml><Encrypt>{encrypt}</Encrypt></xml>".encode())
    assert response.status_code == 400


# --- retries -----------------------------------------------------------------------------------


def test_a_retried_msgid_reaches_rasa_once_and_gets_the_same_reply(settings):
    rasa = FakeRasa(reply=[{"text": "您好！"}])
    xml = text_xml("你好", msg_id=777)
    with client_for(settings, rasa) as client:
        first = post_plain(client, xml)
        retry = post_plain(client, xml, **signed_query(nonce="another-nonce"))
        other = post_plain(client, text_xml("你好", msg_id=778))
    assert len(rasa.received) == 2  # 777 once, 778 once
    assert first.status_code == retry.status_code == 200
    assert retry.text == first.text and reply_fields(retry)["Content"] == "您好！"
    assert reply_fields(other)["Content"] == "您好！"


def test_a_retried_event_is_answered_once_by_openid_and_create_time(settings):
    created = int(time.time()) - 5
    with client_for(settings, FakeRasa()) as client:
        first = post_plain(client, event_xml("subscribe", create_time=created))
        retry = post_plain(client, event_xml("subscribe", create_time=created))
        someone_else = post_plain(client, event_xml("subscribe", openid=OTHER_OPENID, create_time=created))
    assert reply_fields(first)["Content"] == replies.WECHAT_WELCOME
    assert retry.text == first.text  # the cached reply, not a second welcome
    assert reply_fields(someone_else)["ToUserName"] == OTHER_OPENID


# --- XML safety --------------------------------------------------------------------------------

XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + f"]><xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"
)
PARAMETER_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>'
    f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>"
)
EXTERNAL_DTD = (
    '<?xml version="1.0"?><!DOCTYPE xml SYSTEM "file:///etc/passwd">'
    f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>"
)


@pytest.mark.parametrize(
    "payload",
    [XXE, BILLION_LAUGHS, PARAMETER_ENTITY, EXTERNAL_DTD],
    ids=["xxe", "billion-laughs", "parameter-entity", "external-dtd"],
)
def test_entity_payloads_are_refused_with_400_and_leak_nothing(settings, payload):
    rasa = FakeRasa(reply=lambda body: [{"text": body["message"]}])  # would echo anything expanded
    with client_for(settings, rasa) as client:
        response = post_plain(client, payload)
    assert response.status_code == 400
    assert "root:" not in response.text and "lol" not in response.text
    assert rasa.received == []


@pytest.mark.parametrize("payload", [XXE, BILLION_LAUGHS])
def test_entity_payloads_inside_a_safe_mode_envelope_are_refused(tmp_path, payload):
    rasa = FakeRasa()
    with client_for(settings_for(tmp_path, wechat_aes_key=AES_KEY), rasa) as client:
        response = post_encrypted(client, payload)
    assert response.status_code == 400
    assert rasa.received == []


@pytest.mark.parametrize("payload", [XXE, BILLION_LAUGHS, PARAMETER_ENTITY])
def test_wechatpys_parser_refuses_entity_declarations_on_its_own(payload):
    """The second line of defence: without our DTD check, wechatpy (xmltodict) still refuses."""
    with pytest.raises(ValueError, match="entities are disabled"):
        parse_message(payload)


def test_utf16_body_cannot_hide_a_dtd(settings):
    with client_for(settings, FakeRasa()) as client:
        response = post_plain(client, XXE.replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16"))
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        b"not xml at all",
        b"<xml><ToUserName>gh_1</ToUserName>",
        b"<xml></xml>",
        b"<other><MsgType>text</MsgType></other>",
        b"",
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
        "<Content>no type</Content></xml>".encode(),
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName><a>nested</a></FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>x</Content></xml>".encode(),
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>soon</CreateTime>"
        "<MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>".encode(),
        f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content><b>x</b></Content><MsgId>1</MsgId></xml>".encode(),
        b"\xff\xfe<\x00x\x00",
    ],
)
def test_malformed_xml_is_400_with_a_short_message(settings, body):
    with client_for(settings, FakeRasa()) as client:
        response = post_plain(client, body)
    assert response.status_code == 400
    assert response.json() == {"detail": replies.WECHAT_MALFORMED}


def test_oversized_body_is_413(settings):
    with client_for(settings, FakeRasa()) as client:
        response = post_plain(client, text_xml("证" * 30_000))
    assert response.status_code == 413


# --- buttons as numbered options -----------------------------------------------------------------


def test_buttons_become_numbered_options_and_a_number_picks_the_payload(settings):
    def rasa_reply(body):
        if body["message"].startswith("/"):
            return [{"text": f"您选择了 {body['message']}"}]
        return [
            {
                "text": "您想了解哪个班型？",
                "buttons": [
                    {"title": "无忧取证班", "payload": '/choose_package{"package": "无忧取证班"}'},
                    {"title": "AI私塾班", "payload": '/choose_package{"package": "AI私塾班"}'},
                ],
            }
        ]

    rasa = FakeRasa(reply=rasa_reply)
    with client_for(settings, rasa) as client:
        offered = post_plain(client, text_xml("有哪些班", msg_id=1))
        picked = post_plain(client, text_xml("２", msg_id=2))  # full-width digit, as phones sometimes send
        post_plain(client, text_xml("1", msg_id=3))  # options are gone after a reply without buttons
    assert reply_fields(offered)["Content"] == "您想了解哪个班型？\n回复数字选择：\n1. 无忧取证班\n2. AI私塾班"
    assert rasa.received[1]["message"] == '/choose_package{"package": "AI私塾班"}'
    assert "AI私塾班" in reply_fields(picked)["Content"]
    assert rasa.received[2]["message"] == "1"


def test_a_number_outside_the_options_goes_to_rasa_as_text(settings):
    rasa = FakeRasa(reply=[{"text": "请选择", "buttons": [{"title": "是", "payload": "/affirm"}]}])
    with client_for(settings, rasa) as client:
        post_plain(client, text_xml("开始", msg_id=1))
        post_plain(client, text_xml("3", msg_id=2))
    assert rasa.received[1]["message"] == "3"


def test_options_are_per_user(settings):
    rasa = FakeRasa(reply=[{"text": "请选择", "buttons": [{"title": "是", "payload": "/affirm"}]}])
    with client_for(settings, rasa) as client:
        post_plain(client, text_xml("开始", msg_id=1))
        post_plain(client, text_xml("1", msg_id=2, openid=OTHER_OPENID))
    assert rasa.received[1] == {"sender": f"wx:{OTHER_OPENID}", "message": "1", "metadata": {"channel": "wechat"}}


def test_options_expire():
    now = [1000.0]
    store = MemoryTTLStore(clock=lambda: now[0])

    async def scenario():
        await store.set("options:u", "[1]", 300)
        assert await store.get("options:u") == "[1]"
        now[0] += 301
        return await store.get("options:u")

    assert asyncio.run(scenario()) is None


def test_buttons_numbered_across_messages_and_custom_without_text_skipped():
    rendered = render(
        [
            {"text": "A", "buttons": [{"title": "a1", "payload": "/a1"}]},
            {"custom": {"type": "answer", "faq_id": "photo_rules"}},
            {"text": "B", "buttons": [{"title": "b1", "payload": "/b1"}, {"title": "b2", "payload": "/b2"}]},
        ]
    )
    assert rendered.text == "A\n回复数字选择：\n1. a1\n\nB\n回复数字选择：\n2. b1\n3. b2"
    assert [o["payload"] for o in rendered.options] == ["/a1", "/b1", "/b2"]
    assert not rendered.handoff


def test_comparison_table_is_rendered_as_text():
    table = {
        "type": "comparison",
        "title": "班型对比",
        "columns": ["项目", "无忧取证班", "AI私塾班"],
        "rows": [["有效期", "两年", "一年"], {"项目": "保障", "无忧取证班": "重学", "AI私塾班": ""}],
    }
    assert (
        render_table(table)
        == "【班型对比】\n\n有效期\n· 无忧取证班：两年\n· AI私塾班：一年\n\n保障\n· 无忧取证班：重学"
    )
    assert render([{"custom": table}]).text.startswith("【班型对比】")


def test_long_text_is_split_at_line_boundaries_within_wechats_limit():
    text = "\n\n".join(f"第{i}段：" + "证" * 300 for i in range(6))
    parts = split_text(text)
    assert len(parts) > 1
    assert all(len(p.encode("utf-8")) <= 2000 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


# --- events, media, hand-off ----------------------------------------------------------------------


def test_subscribe_gets_a_welcome_and_unsubscribe_nothing(settings):
    rasa = FakeRasa()
    with client_for(settings, rasa) as client:
        welcome = post_plain(client, event_xml("subscribe"))
        bye = post_plain(client, event_xml("unsubscribe"))
    reply = reply_fields(welcome)
    assert reply["MsgType"] == "text" and reply["Content"] == replies.WECHAT_WELCOME and reply["ToUserName"] == OPENID
    assert bye.status_code == 200 and bye.text == "success"
    assert rasa.received == []


@pytest.mark.parametrize(
    "msg_type,extra",
    [
        ("image", "<PicUrl><![CDATA[http://example.invalid/p.jpg]]></PicUrl><MediaId><![CDATA[m1]]></MediaId>"),
        ("voice", "<MediaId><![CDATA[m2]]></MediaId><Format><![CDATA[amr]]></Format>"),
        ("video", "<MediaId><![CDATA[m3]]></MediaId><ThumbMediaId><![CDATA[t3]]></ThumbMediaId>"),
        (
            "location",
            "<Location_X>26.07</Location_X><Location_Y>119.30</Location_Y><Scale>15</Scale><Label>福州</Label>",
        ),
        ("link", "<Title>t</Title><Description>d</Description><Url>http://example.invalid</Url>"),
        ("miniprogrampage", "<Title>t</Title>"),
    ],
)
def test_non_text_messages_get_a_polite_request_for_text(settings, msg_type, extra):
    rasa = FakeRasa()
    with client_for(settings, rasa) as client:
        response = post_plain(client, media_xml(msg_type, extra))
    reply = reply_fields(response)
    assert reply["MsgType"] == "text" and reply["Content"] == replies.WECHAT_TEXT_ONLY
    assert rasa.received == []


def test_voice_with_speech_recognition_is_treated_as_text(settings):
    rasa = FakeRasa()
    extra = "<MediaId><![CDATA[m2]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[证书怎么下载]]></Recognition>"
    with client_for(settings, rasa) as client:
        post_plain(client, media_xml("voice", extra))
    assert rasa.received[0]["message"] == "证书怎么下载"


@pytest.mark.parametrize("text", ["转人工", "人工客服", "我要转人工！", "人工", "客服"])
def test_asking_for_a_human_transfers_to_customer_service(settings, text):
    rasa = FakeRasa()
    with client_for(settings, rasa) as client:
        response = post_plain(client, text_xml(text))
    reply = reply_fields(response)
    assert reply["MsgType"] == "transfer_customer_service"
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == ACCOUNT
    # Rasa hears the request too, so the hand-off is recorded and the transcript stays whole.
    assert [r["message"] for r in rasa.received] == [text]


def test_a_question_mentioning_customer_service_still_goes_to_rasa(settings):
    rasa = FakeRasa()
    with client_for(settings, rasa) as client:
        post_plain(client, text_xml("客服电话是多少"))
    assert rasa.received[0]["message"] == "客服电话是多少"


def test_rasa_handoff_payload_transfers_to_customer_service(tmp_path):
    rasa = FakeRasa(reply=[{"text": "正在为您转接人工客服。"}, {"custom": {"type": "handoff"}}])
    with client_for(settings_for(tmp_path, wechat_aes_key=AES_KEY), rasa) as client:
        response = post_encrypted(client, text_xml("这个问题你答不了"))
    assert decrypt_reply(response.text)["MsgType"] == "transfer_customer_service"


# --- slow bot: success now, customer-service API later ------------------------------------------------


def test_slow_bot_answers_success_then_one_customer_service_message(tmp_path):
    settings = settings_for(tmp_path, wechat_reply_budget_seconds=0.2)
    rasa = FakeRasa(reply=[{"text": "报名请点击链接。"}, {"text": "还需要什么帮助？"}], delay=1.0)
    api = FakeWeChatApi()
    xml = text_xml("我要报名", msg_id=4242)
    with client_for(settings, rasa, api) as client:
        started = time.monotonic()
        response = post_plain(client, xml)
        elapsed = time.monotonic() - started
        retry = post_plain(client, xml, **signed_query(nonce="retry-nonce"))  # while Rasa still works
        assert wait_until(lambda: len(api.sent) >= 1)
        time.sleep(0.3)  # nothing else should arrive
    assert response.status_code == 200 and response.text == "success"
    assert elapsed < 0.9  # well before Rasa answered
    assert retry.text == "success"
    assert len(rasa.received) == 1
    assert len(api.sent) == 1 and len(api.token_calls) == 1
    token_request = api.token_calls[0]
    assert token_request.url.params["grant_type"] == "client_credential"
    assert token_request.url.params["appid"] == "wx0123456789abcdef"
    sent = api.sent[0]
    assert sent["access_token"] == "TOKEN-1"
    assert sent["json"] == {
        "touser": OPENID,
        "msgtype": "text",
        "text": {"content": "报名请点击链接。\n\n还需要什么帮助？"},
    }
    assert "报名".encode() in sent["raw"]  # UTF-8, not \\u escapes (WeChat would show them)
    assert api.hosts == {"api.weixin.qq.com"}  # the mocked host: the transport never touched a network


def test_access_token_is_cached_across_deliveries_and_refreshed_on_40001(tmp_path):
    settings = settings_for(tmp_path, wechat_reply_budget_seconds=0.1)
    rasa = FakeRasa(reply=[{"text": "好的"}], delay=0.3)
    api = FakeWeChatApi(send_errcodes=[0, 0, 40001])
    with client_for(settings, rasa, api) as client:
        for n in (1, 2):
            assert post_plain(client, text_xml(f"问题{n}", msg_id=n)).text == "success"
            assert wait_until(lambda n=n: len(api.sent) >= n)
        assert len(api.token_calls) == 1  # cached across the first two deliveries
        assert post_plain(client, text_xml("问题3", msg_id=3)).text == "success"
        assert wait_until(lambda: len(api.sent) >= 4)
    assert len(api.token_calls) == 2
    assert [s["access_token"] for s in api.sent] == ["TOKEN-1", "TOKEN-1", "TOKEN-1", "TOKEN-2"]


def test_reply_longer_than_one_wechat_message_goes_out_in_order_through_the_api(settings):
    long_answer = "\n\n".join(f"第{i}条：" + "须知" * 200 for i in range(4))
    api = FakeWeChatApi()
    with client_for(settings, FakeRasa(reply=[{"text": long_answer}]), api) as client:
        response = post_plain(client, text_xml("注意事项有哪些"))
        assert wait_until(lambda: len(api.sent) >= 2)
        time.sleep(0.1)
    assert response.text == "success"
    contents = [s["json"]["text"]["content"] for s in api.sent]
    assert "".join(contents).replace("\n", "") == long_answer.replace("\n", "")


# --- the customer-service client on its own -----------------------------------------------------------


def test_token_refreshed_shortly_before_it_expires():
    now = [0.0]
    api = FakeWeChatApi(expires_in=7200)
    client = CustomerServiceClient(API_BASE, "wx1", "s", transport=httpx.MockTransport(api), clock=lambda: now[0])

    async def scenario():
        await client.send_text(OPENID, "a")
        now[0] = 6899.0  # still more than 300 s before expires_in runs out: cached
        await client.send_text(OPENID, "b")
        calls_before = len(api.token_calls)
        now[0] = 6901.0  # within the last 300 s: fetched again before WeChat would refuse it
        await client.send_text(OPENID, "c")
        await client.aclose()
        return calls_before

    assert asyncio.run(scenario()) == 1
    assert len(api.token_calls) == 2


def test_workers_sharing_a_store_share_one_access_token():
    api = FakeWeChatApi(send_errcodes=[0, 0, 40001, 0, 40001, 0])
    store = MemoryTTLStore()
    workers = [
        CustomerServiceClient(API_BASE, "wx1", "s", transport=httpx.MockTransport(api), store=store) for _ in range(2)
    ]

    async def scenario():
        await workers[0].send_text(OPENID, "a")  # fetches TOKEN-1 and shares it
        await workers[1].send_text(OPENID, "b")  # uses TOKEN-1: fetching would invalidate worker 0's
        assert len(api.token_calls) == 1
        await workers[0].send_text(OPENID, "c")  # refused: worker 0 fetches TOKEN-2 and shares it
        await workers[1].send_text(OPENID, "d")  # TOKEN-1 refused: takes TOKEN-2 from the store, no fetch
        for w in workers:
            await w.aclose()

    asyncio.run(scenario())
    assert len(api.token_calls) == 2
    assert [s["access_token"] for s in api.sent] == ["TOKEN-1", "TOKEN-1", "TOKEN-1", "TOKEN-2", "TOKEN-1", "TOKEN-2"]
    assert all(s["json"]["text"]["content"] for s in api.sent)


def test_other_api_errors_raise_delivery_error_without_a_retry_loop():
    api = FakeWeChatApi(send_errcodes=[45015])  # "out of the 48-hour window"
    client = CustomerServiceClient(API_BASE, "wx1", "s", transport=httpx.MockTransport(api))

    async def scenario():
        try:
            with pytest.raises(DeliveryError, match="45015"):
                await client.send_text(OPENID, "a")
        finally:
            await client.aclose()

    asyncio.run(scenario())
    assert len(api.sent) == 1


def test_unreachable_api_raises_delivery_error():
    def down(request):
        raise httpx.ConnectTimeout("timed out", request=request)

    client = CustomerServiceClient(API_BASE, "wx1", "s", transport=httpx.MockTransport(down))

    async def scenario():
        try:
            with pytest.raises(DeliveryError, match="unreachable"):
                await client.send_text(OPENID, "a")
        finally:
            await client.aclose()

    asyncio.run(scenario())


# --- Redis store contract -------------------------------------------------------------------------------


def test_redis_store_claims_with_set_nx_ex():

    redis = FakeRedis()
    store = RedisTTLStore(redis)

    async def scenario():
        return (
            await store.add("dedup:msg:1", "p", 300),
            await store.add("dedup:msg:1", "p", 300),
            await store.get("dedup:msg:1"),
        )

    first, second, value = asyncio.run(scenario())
    assert (first, second, value) == (True, False, "p")
    assert redis.calls[0] == ("set", "bot:wechat:dedup:msg:1", True, 300)


def test_redis_outage_degrades_to_answering(caplog):

    store = RedisTTLStore(FakeRedis(broken=True))

    async def scenario():
        return await store.add("k", "v", 10), await store.get("k")

    with caplog.at_level(logging.WARNING):
        assert asyncio.run(scenario()) == (True, None)
    assert "Redis" in caplog.text


# --- logs ----------------------------------------------------------------------------------------------


def test_logs_hold_no_phone_number_and_only_a_short_excerpt(settings, caplog):
    message = "我的手机13812345678，报名AI私塾班需要准备哪些材料呢请详细说明一下谢谢"
    with caplog.at_level(logging.INFO):
        with client_for(settings, FakeRasa()) as client:
            post_plain(client, text_xml(message))
    assert "13812345678" not in caplog.text
    assert "详细说明" not in caplog.text  # only the first characters appear
    assert any("wechat text from" in r.getMessage() for r in caplog.records)


def test_protocol_check_timestamp_rejects_garbage():
    for value in (None, "", "abc", "-5", "1" * 20):
        with pytest.raises(protocol.StaleTimestamp):
            protocol.check_timestamp(value, 300)
    protocol.check_timestamp(str(int(time.time())), 300)


def test_comparison_sent_as_text_and_payload_is_shown_once():
    from bot.wechat.replies import render

    rendered = render(
        [
            {"text": "无忧取证班 vs AI私塾班：\n【全科】\n  无忧取证班：¥6280"},
            {"custom": {"type": "comparison", "columns": ["项目", "无忧取证班"], "rows": [["全科", "¥6280"]]}},
        ]
    )
    assert rendered.text.count("¥6280") == 1
