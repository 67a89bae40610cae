"""The conversation suite, end to end: 72 multi-turn conversations written like real users
(tests/e2e/conversations/, written from the source document and the product's behaviour only),
each played turn by turn through /api/chat against the real stack. A conversation passes when
every reply meets what a person would expect of it (scripts/evaluation/conversations.py)."""
from __future__ import annotations

import uuid

import pytest

from scripts.evaluation.conversations import http_say, load_conversations, play

CONVERSATIONS = load_conversations()
# What the assistant still gets wrong, said plainly; strict: a fix makes these fail until removed here.
KNOWN_FAILURES = {
    "a-21": "a follow-up that states a fact (手机号确实不一样 闽政通那个是我老号): the right item is below the answer "
            "threshold calibrated on the larger calibration half, so it is offered, not answered",
    "a-22": "a follow-up without a question word of a kind (不合格的原因去哪看) is read alone, and alone it is declined",
    "a-27": "after a declined question (挂靠) there is no answered topic to lean on; 那她想在福建换个单位 咋弄 alone is "
            "below the answer threshold and gets the related questions",
    "b-14": "是不是所有人都要学啊 after two answers: NLU reads it as nlu_fallback, so it never reaches the knowledge base",
    "b-15": "增项也是这么快吗 签名照又要多大: the first part leans on the previous answer and is not read with it, so only "
            "the photo part is answered",
}


def test_the_suite_is_the_one_the_issue_asks_for():
    assert len(CONVERSATIONS) >= 60
    assert len({c.id for c in CONVERSATIONS}) == len(CONVERSATIONS)
    assert all(2 <= len(c.turns) <= 7 for c in CONVERSATIONS)


@pytest.mark.parametrize("conversation", [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[c.id])) if c.id in KNOWN_FAILURES else c
    for c in CONVERSATIONS], ids=[c.id for c in CONVERSATIONS])
def test_conversation(stack, conversation):
    outcome = play(conversation, http_say(stack.bot_url, f"suite-{conversation.id}-{uuid.uuid4().hex[:8]}"))
    assert outcome.passed, f"{conversation.shape} ({conversation.persona}):\n" + "\n".join(outcome.failures)
