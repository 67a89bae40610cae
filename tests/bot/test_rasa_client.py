"""bot/rasa_client.py over several Rasa instances, mocked at the HTTP client boundary."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.settings import Settings

A, B = "http://127.0.0.1:5005", "http://127.0.0.1:5006"


class Instances:
    """Two fake Rasa instances; `down` refuse connections, `hang` time out after receiving."""

    def __init__(self, down=(), hang=()):
        self.down, self.hang = set(down), set(hang)
        self.received: list[tuple[str, str]] = []  # (instance, sender)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        instance = f"http://{request.url.host}:{request.url.port}"
        if instance in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path == "/status":
            return httpx.Response(200, json={})
        if request.url.path.startswith("/conversations/"):
            sender = request.url.path.split("/")[2]
            self.received.append((instance, sender))
            return httpx.Response(200, json={"sender_id": sender, "events": [{"event": "user", "text": "你好"}]})
        sender = json.loads(request.content)["sender"]
        self.received.append((instance, sender))
        if instance in self.hang:
            raise httpx.ReadTimeout("no answer", request=request)
        return httpx.Response(200, json=[{"recipient_id": sender, "text": f"来自{instance[-4:]}"}])


def client(instances: Instances) -> RasaClient:
    return RasaClient(f"{A}, {B}", transport=httpx.MockTransport(instances))


def run(coro):
    return asyncio.run(coro)


def test_in_a_quiet_system_a_conversation_stays_on_one_instance_and_senders_spread_over_both():
    fake = Instances()
    rasa = client(fake)

    async def talk():
        for n in range(200):
            for _ in range(3):
                await rasa.send(f"web-{n}", "你好")

    run(talk())
    per_sender = {}
    for instance, sender in fake.received:
        per_sender.setdefault(sender, set()).add(instance)
    assert all(len(used) == 1 for used in per_sender.values())
    load = Counter(next(iter(used)) for used in per_sender.values())
    assert min(load.values()) >= 60, load  # 200 senders: roughly half each, never all on one


def test_a_conversation_moves_to_the_other_instance_when_its_own_is_down():
    fake = Instances()
    rasa = client(fake)
    rasa.SKIP_UNREACHABLE_SECONDS = 0.05
    home = rasa.route("web-u1")[0]
    fake.down.add(home)
    reply = run(rasa.send("web-u1", "你好"))
    other = B if home == A else A
    assert reply == [{"text": f"来自{other[-4:]}"}]
    assert fake.received == [(other, "web-u1")]
    fake.down.clear()
    time.sleep(0.1)
    run(rasa.send("web-u1", "证件照"))
    assert fake.received[-1] == (home, "web-u1"), "back home once its instance is up again"


def test_an_unreachable_instance_is_not_tried_first_by_every_message():
    fake = Instances(down={A})
    attempts = []
    rasa = RasaClient([A, B], transport=httpx.MockTransport(lambda r: attempts.append(r.url.port) or fake(r)))

    async def talk():
        for n in range(20):
            await rasa.send(f"web-{n}", "你好")

    run(talk())
    assert attempts.count(5005) == 1, "after one refusal the dead instance is tried last"
    assert len(fake.received) == 20 and {i for i, _ in fake.received} == {B}


def test_all_instances_down_is_rasa_unavailable():
    rasa = client(Instances(down={A, B}))
    with pytest.raises(RasaUnavailable):
        run(rasa.send("web-u1", "你好"))


def test_a_message_that_reached_an_instance_is_never_sent_twice():
    fake = Instances(hang={A, B})
    rasa = client(fake)
    with pytest.raises(RasaUnavailable):
        run(rasa.send("web-u1", "确认"))
    assert len(fake.received) == 1, "Rasa may have acted on it: re-sending could enroll twice"


def test_the_transcript_is_read_where_the_conversation_lives():
    fake = Instances()
    rasa = client(fake)
    run(rasa.send("web-u2", "你好"))
    tracker = run(rasa.tracker("web-u2"))
    assert tracker["events"] == [{"event": "user", "text": "你好"}]
    assert fake.received[0][0] == fake.received[1][0]


def test_no_url_is_refused():
    with pytest.raises(ValueError):
        RasaClient(" , ")


def test_health_shows_a_partial_rasa_and_chat_still_answers(tmp_path):
    settings = Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        rasa_url=f"{A},{B}",
        action_server_url="http://127.0.0.1:9",
    )
    with TestClient(create_app(settings, rasa_transport=httpx.MockTransport(Instances(down={B})))) as http:
        health = http.get("/healthz").json()
        assert health["rasa"] == "partial" and health["rasa_instances"] == {"up": 1, "total": 2}
        assert health["status"] == "degraded"
        for n in range(10):
            response = http.post("/api/chat", json={"sender": f"web-{n}", "message": "你好"})
            assert response.status_code == 200 and response.json()["messages"][0]["text"] == "来自5005"


class SlowInstances:
    """Async fake instances that take `delay` seconds per message and record overlaps and order."""

    def __init__(self, delay=0.01):
        self.delay = delay
        self.busy: set[str] = set()
        self.overlaps = 0
        self.per_instance: Counter = Counter()
        self.order: dict[str, list[str]] = {}
        self.hold: dict[str, asyncio.Event] = {}  # instance -> released when set
        self.time_out: set[str] = set()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        instance = f"http://{request.url.host}:{request.url.port}"
        body = json.loads(request.content)
        sender = body["sender"]
        if sender in self.busy:
            self.overlaps += 1
        self.busy.add(sender)
        try:
            self.per_instance[instance] += 1
            self.order.setdefault(sender, []).append(body["message"])
            if sender in self.time_out:
                raise httpx.ReadTimeout("no answer", request=request)
            if instance in self.hold:
                await self.hold[instance].wait()
            await asyncio.sleep(self.delay)
            return httpx.Response(200, json=[{"recipient_id": sender, "text": instance[-4:]}])
        finally:
            self.busy.discard(sender)


def test_under_load_messages_spread_evenly_one_at_a_time_per_conversation_in_order():
    fake = SlowInstances()

    async def load():
        rasa = RasaClient([A, B], transport=httpx.MockTransport(fake))

        async def user(n):
            # A user who double-sends: three messages fired at once, as an impatient user does.
            await asyncio.gather(*(rasa.send(f"web-{n}", f"第{i}条") for i in range(3)))
            for i in range(3, 6):
                await rasa.send(f"web-{n}", f"第{i}条")

        await asyncio.gather(*(user(n) for n in range(20)))
        return rasa

    rasa = asyncio.run(load())
    assert fake.overlaps == 0, "two messages of one conversation were in Rasa at the same time"
    total = sum(fake.per_instance.values())
    assert total == 120
    assert min(fake.per_instance.values()) >= 0.4 * total, fake.per_instance
    for messages in fake.order.values():
        assert messages[3:] == ["第3条", "第4条", "第5条"]
    assert rasa._conversations == {}, "nothing is kept for conversations with no message waiting"


def test_after_a_timeout_the_conversation_stays_on_that_instance_even_when_it_is_busier():
    fake = SlowInstances()

    async def scenario():
        rasa = RasaClient([A, B], transport=httpx.MockTransport(fake))
        sender = "web-slow"
        home = rasa.route(sender)[0]
        fake.time_out.add(sender)
        with pytest.raises(RasaUnavailable):
            await rasa.send(sender, "确认")
        fake.time_out.clear()
        # Another conversation keeps `home` busy; a fresh sender would now go to the other instance.
        fake.hold[home] = asyncio.Event()
        other_sender = next(f"web-{n}" for n in range(100) if rasa.route(f"web-{n}")[0] == home)
        blocked = asyncio.create_task(rasa.send(other_sender, "你好"))
        await asyncio.sleep(0.05)
        assert rasa.route("web-fresh")[0] != home
        assert rasa.route(sender)[0] == home, "Rasa may still be working on the timed-out message there"
        fake.hold[home].set()
        await blocked
        reply = await rasa.send(sender, "确认")
        return home, reply

    home, reply = asyncio.run(scenario())
    assert reply == [{"text": home[-4:]}]


def test_a_message_waiting_too_long_behind_its_conversation_gets_a_clear_error():
    fake = SlowInstances()

    async def scenario():
        rasa = RasaClient([A], timeout=0.2, transport=httpx.MockTransport(fake))
        fake.hold[A] = asyncio.Event()
        first = asyncio.create_task(rasa.send("web-u1", "第一条"))
        await asyncio.sleep(0.05)
        with pytest.raises(RasaUnavailable, match="still being answered"):
            await asyncio.wait_for(rasa.send("web-u1", "第二条"), timeout=5)
        fake.hold[A].set()
        await first
        return await rasa.send("web-u1", "第三条")

    assert asyncio.run(scenario()) == [{"text": "5005"}]


class CountingInstances(SlowInstances):
    """SlowInstances that also record the most messages any instance had at once, and arrival order."""

    def __init__(self, delay=0.01):
        super().__init__(delay)
        self.now: Counter = Counter()
        self.most: Counter = Counter()
        self.arrivals: list[str] = []

    async def __call__(self, request):
        instance = f"http://{request.url.host}:{request.url.port}"
        self.now[instance] += 1
        self.most[instance] = max(self.most[instance], self.now[instance])
        self.arrivals.append(json.loads(request.content)["sender"])
        try:
            return await super().__call__(request)
        finally:
            self.now[instance] -= 1


def test_each_instance_works_on_at_most_its_share_and_the_rest_wait_in_arrival_order():
    fake = CountingInstances(delay=0.02)

    async def burst():
        rasa = RasaClient([A, B], transport=httpx.MockTransport(fake), max_in_flight=2)
        senders = [f"web-{n}" for n in range(12)]
        tasks = []
        for sender in senders:  # twelve users at the same moment, one after the other
            tasks.append(asyncio.create_task(rasa.send(sender, "你好")))
            await asyncio.sleep(0)
        replies = await asyncio.gather(*tasks)
        return senders, replies

    senders, replies = asyncio.run(burst())
    assert all(reply and reply[0]["text"] for reply in replies), "every waiting message is answered"
    assert max(fake.most.values()) <= 2 and sum(fake.most.values()) == 4, fake.most
    assert fake.arrivals == senders, "first come, first served"


def test_a_message_that_cannot_get_a_place_in_time_gets_a_clear_error():
    fake = SlowInstances()

    async def scenario():
        rasa = RasaClient([A], timeout=0.2, transport=httpx.MockTransport(fake), max_in_flight=1)
        fake.hold[A] = asyncio.Event()
        first = asyncio.create_task(rasa.send("web-u1", "第一条"))
        await asyncio.sleep(0.05)
        with pytest.raises(RasaUnavailable, match="busy"):
            await rasa.send("web-u2", "你好")
        fake.hold[A].set()
        await first
        return await rasa.send("web-u2", "你好")

    assert asyncio.run(scenario()) == [{"text": "5005"}]
