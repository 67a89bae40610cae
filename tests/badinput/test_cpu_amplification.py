"""cpu_amplification: a message built to defeat the normalisation costs about what a normal one does.

Every span of a run of latin letters used to be spelled as pinyin (quadratic in the run, with a
segmentation per span): 1000 single letters cost seconds of CPU in bot/ against milliseconds for a
question. Here bot/'s /api/knowledge/answer (the real index, the gateway's clean-up included) is
timed on the hostile messages of `make bench-knowledge` against real questions, medians in one
run, each message new to the caches. The product target is 3x, which `make bench-knowledge`
reports; this test allows 5x so that a shared machine's noise does not fail it, far below what
the quadratic code cost (thousands of times).
"""

from __future__ import annotations

import statistics
import time
import uuid

import pytest
from fastapi.testclient import TestClient

from scripts.bench_knowledge import hostile_messages

from .helpers import make_app, make_settings

# Normal traffic: questions the material answers, and questions it does not (declined and stored
# for the staff console, as every hostile message is).
NORMAL = [
    "证件照有什么要求",
    "资格库中目前没有您的数据怎么办",
    "初始注册多久能批下来",
    "无忧取证班全科多少钱",
    "二建考试什么时候报名",
    "挂靠一年能拿多少钱",
    "外省的证能转到福建吗",
    "附近有没有好吃的火锅",
]


@pytest.fixture(scope="module")
def client(knowledge_index, module_database_url):
    with TestClient(make_app(make_settings(module_database_url, knowledge_index))) as client:
        yield client


def _cost_ms(client, text: str, repeat: int = 5) -> float:
    ms = []
    for i in range(repeat):
        # A different message each time (the tokenizer and the normalisation cache what they saw).
        varied = f"{text[:-4]}{i}{uuid.uuid4().hex[:3]}" if len(text) > 8 else f"{text}{'吗呢啊呀哦'[i % 5]}"
        t0 = time.perf_counter()
        r = client.post("/api/knowledge/answer", json={"question": varied, "sender": f"web:{uuid.uuid4().hex}"})
        ms.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.text
    return statistics.median(ms)


def test_a_hostile_thousand_characters_cost_a_few_normal_questions(client):
    _cost_ms(client, NORMAL[0])  # warm-up
    # Normal and hostile messages are timed in alternating rounds and each keeps its quietest
    # round: a burst of load from another process (CI trains Rasa beside this) then weighs on
    # both sides alike instead of on whichever was being timed at that moment.
    hostile_texts = hostile_messages(1000)
    normal_rounds, hostile_rounds = [], []
    for _ in range(3):
        normal_rounds.append(statistics.median(_cost_ms(client, q) for q in NORMAL))
        hostile_rounds.append({name: _cost_ms(client, text) for name, text in hostile_texts.items()})
    normal = min(normal_rounds)
    hostile = {name: min(r[name] for r in hostile_rounds) for name in hostile_texts}
    worst = max(hostile, key=hostile.get)
    assert hostile[worst] <= 5 * normal, f"{worst}: {hostile[worst]:.1f} ms against {normal:.1f} ms for a question"
