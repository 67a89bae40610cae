"""The first conversation, end to end through the real processes."""

import httpx


def test_health_reports_all_three_processes(stack):
    body = httpx.get(f"{stack.bot_url}/healthz", timeout=10).json()
    assert body == {
        "status": "ok",
        "bot": "ok",
        "rasa": "ok",
        "action_server": "ok",
        "rasa_instances": {"up": len(stack.rasa_urls), "total": len(stack.rasa_urls)},
    }


def test_greeting_is_answered_in_chinese(chat):
    reply = chat.say_text("你好")
    assert "建造师助手" in reply


def test_capabilities_list_the_four_things_it_helps_with(chat):
    reply = chat.say_text("你能做什么")
    for topic in ("注册", "课程", "报名", "人工"):
        assert topic in reply


def test_thanks_and_goodbye(chat):
    assert "不客气" in chat.say_text("谢谢你")
    assert "再见" in chat.say_text("好的，拜拜") or "顺利" in chat.say_text("再见")


def test_empty_message_gets_a_prompt_not_an_error(chat):
    reply = chat.say_text("   ")
    assert "请问有什么可以帮您" in reply


def test_invalid_sender_is_a_clear_422(stack):
    response = httpx.post(f"{stack.bot_url}/api/chat", json={"sender": "", "message": "你好"}, timeout=10)
    assert response.status_code == 422
    assert "sender" in response.json()["detail"]
