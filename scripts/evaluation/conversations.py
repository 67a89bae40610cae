"""The conversation suite: multi-turn conversations written like real users, played turn by turn
through POST /api/chat, every reply checked against what a person would expect of it.

The conversations (tests/e2e/conversations/*.yml) were written by helpers who saw only the source
document and the product's behaviour, never the NLU data. Each user turn has an `expect` of:
says / says_any / not_says (strings), asks / not_asks (what the reply asks for, see
replies.ASK_MARKS), declines, no_form, handoff, recommends, enrolled, lead, stopped.

    python -m scripts.evaluation.conversations --chat-url http://127.0.0.1:8000   # prints the pass rate
"""

from __future__ import annotations

import argparse
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.labelled import squash
from scripts.evaluation.replies import Reply

ROOT = Path(__file__).resolve().parents[2]
CONVERSATIONS_DIR = ROOT / "tests" / "e2e" / "conversations"
CHECKS = {
    "says",
    "says_any",
    "not_says",
    "asks",
    "not_asks",
    "declines",
    "no_form",
    "handoff",
    "recommends",
    "enrolled",
    "lead",
    "stopped",
}


@dataclass
class Conversation:
    id: str
    shape: str
    turns: list[dict]
    persona: str = ""


@dataclass
class Outcome:
    conversation: Conversation
    failures: list[str] = field(default_factory=list)  # "turn 2 (那企业呢): asks business"

    @property
    def passed(self) -> bool:
        return not self.failures


def load_conversations(folder: Path = CONVERSATIONS_DIR) -> list[Conversation]:
    out = []
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for raw in data.get("conversations") or []:
            turns = raw.get("turns") or []
            for t in turns:
                unknown = set(t.get("expect") or {}) - CHECKS
                if unknown:
                    raise ValueError(f"{path.name} {raw.get('id')}: unknown checks {sorted(unknown)}")
            out.append(Conversation(str(raw["id"]), str(raw.get("shape") or ""), turns, str(raw.get("persona") or "")))
    return out


def check(reply: Reply, expect: dict) -> list[str]:
    """What in the reply falls short of the expectation (empty when it meets it)."""
    flat = squash(reply.text)
    problems = []
    for s in expect.get("says") or []:
        if squash(str(s)) not in flat:
            problems.append(f"does not say {s!r}")
    options = expect.get("says_any") or []
    if options and not any(squash(str(s)) in flat for s in options):
        problems.append(f"says none of {options}")
    for s in expect.get("not_says") or []:
        if squash(str(s)) in flat:
            problems.append(f"says {s!r}")
    asks = reply.asks
    if expect.get("asks") and expect["asks"] not in asks:
        problems.append(f"does not ask for {expect['asks']} (asks {sorted(asks) or 'nothing'})")
    for slot in expect.get("not_asks") or []:
        if slot in asks:
            problems.append(f"asks for {slot}")
    if expect.get("no_form") and asks:
        problems.append(f"starts a form (asks {sorted(asks)})")
    # A decline may be followed by the question of a form that was running (the form goes on).
    if expect.get("declines") and (reply.answered or not reply.declines):
        problems.append("does not decline")
    if expect.get("handoff") and not reply.hands_off:
        problems.append("does not hand off to a person")
    if expect.get("recommends") and not reply.recommends(str(expect["recommends"])):
        problems.append(f"does not recommend {expect['recommends']}")
    if expect.get("enrolled") and not reply.enrolled:
        problems.append("does not confirm an enrollment")
    if expect.get("lead") and not reply.lead_registered:
        problems.append("does not confirm the call-back")
    if expect.get("stopped") and not reply.stopped:
        problems.append("does not confirm that it stopped")
    return problems


def play(conversation: Conversation, say) -> Outcome:
    """`say(text) -> list of messages` for one sender; every turn is played, failures collected."""
    outcome = Outcome(conversation)
    for n, turn in enumerate(conversation.turns, 1):
        reply = Reply.of(say(str(turn["user"])))
        for problem in check(reply, turn.get("expect") or {}):
            outcome.failures.append(f"turn {n} ({turn['user']}): {problem} | reply: {reply.text[:160]!r}")
    return outcome


def http_say(url: str, sender: str, timeout: float = 30.0):
    import httpx

    client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)

    def say(text: str) -> list[dict]:
        response = client.post("/api/chat", json={"sender": sender, "message": text})
        return (
            response.json().get("messages", [])
            if response.status_code == 200
            else [{"text": f"HTTP {response.status_code}"}]
        )

    return say


def run_all(url: str) -> list[Outcome]:
    return [play(c, http_say(url, f"conv-{c.id}-{uuid.uuid4().hex[:8]}")) for c in load_conversations()]


def summary(outcomes: list[Outcome]) -> str:
    passed = sum(o.passed for o in outcomes)
    lines = [f"conversation suite: {passed}/{len(outcomes)} passed ({100 * passed / max(len(outcomes), 1):.1f}%)"]
    by_shape: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_shape.setdefault(o.conversation.shape, []).append(o)
    lines += [f"  {shape:<26} {sum(o.passed for o in os_)}/{len(os_)}" for shape, os_ in sorted(by_shape.items())]
    for o in outcomes:
        for failure in o.failures:
            lines.append(f"  FAIL {o.conversation.id}: {failure}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Play the conversation suite against a running stack.")
    parser.add_argument("--chat-url", required=True)
    args = parser.parse_args(argv)
    outcomes = run_all(args.chat_url)
    print(summary(outcomes))
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
