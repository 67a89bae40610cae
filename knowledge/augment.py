"""Make FAQ questions sound like the people who ask them.

Real users rarely type a FAQ question: they tell their situation first and ask last, add fillers
and emotion, use colloquial words (咋, 啥, 弄, 搞, 得) and drop punctuation. `variants_of` rewrites a
question a few ways, deterministically (seeded by the text), for two uses:
- the dense encoder's training pairs (knowledge/build.py), so that fillers and situations cost a
  question little of its similarity to its item;
- Rasa's ask_knowledge examples (knowledge/export_nlu.py), so that a long situation-first
  question is routed to the knowledge base and not mistaken for a request.
Nothing here states a fact: prefixes and suffixes are about the asker, never about the rules.
"""

from __future__ import annotations

import hashlib
import random

# Who asks and in which mood, said before the question.
PREFIXES = (
    "你好 想问一下",
    "打扰一下",
    "请问",
    "麻烦问下",
    "咨询一下",
    "老师好 问个事",
    "客服在吗 问下",
    "急急急",
    "着急问一下",
    "弄了一上午了",
    "搞了好几天了还是不行",
    "我是新手不太懂",
    "第一次弄这个",
    "我们单位同事让我问下",
    "领导让我问问",
    "帮我爸问一下",
    "替我老公问的",
    "我们公司人事这边想问",
    "刚考下来的",
    "在工地上不方便打电话",
    "手机上打字慢 简单问下",
    "看了半天没看懂",
    "朋友说你们这能问",
    "之前问过没说清楚",
    "有个情况想咨询",
    "说实话有点懵",
    "真的很烦",
)
# After the question: thanks, urgency, emoji.
SUFFIXES = (
    "",
    "",
    "谢谢",
    "急",
    "在线等",
    "麻烦了",
    "？？",
    "😭",
    "🙏",
    "求解答",
    "谢谢老师",
    "有人吗",
    "快点回我",
    "发我看看",
    "给我说说",
    "讲一下",
    "说清楚点",
)
# Colloquial ways of saying the same words (applied to some copies only).
COLLOQUIAL = (
    ("怎么办", "咋办"),
    ("怎么", "咋"),
    ("什么", "啥"),
    ("需要", "得"),
    ("可以", "能"),
    ("办理", "办"),
    ("操作", "弄"),
    ("是否", "是不是"),
    ("吗", "不"),
    ("没有", "木有"),
    ("多长时间", "多久"),
    ("一下", "下"),
)


def _rng(text: str, salt: str) -> random.Random:
    return random.Random(int(hashlib.sha256(f"{salt}\0{text}".encode()).hexdigest()[:12], 16))


def colloquial(text: str, rng: random.Random) -> str:
    for formal, casual in COLLOQUIAL:
        if formal in text and rng.random() < 0.5:
            text = text.replace(formal, casual, 1)
    return text


def variants_of(question: str, n: int = 2, salt: str = "") -> list[str]:
    """`n` user-like rewrites of a question (situation prefix, filler, colloquial words, no
    punctuation), different from it and from each other."""
    rng = _rng(question, salt)
    bare = question.strip().rstrip("？?。.!！")
    out: list[str] = []
    for _ in range(4 * n):
        text = colloquial(bare, rng) if rng.random() < 0.6 else bare
        text = f"{rng.choice(PREFIXES)} {text}"
        suffix = rng.choice(SUFFIXES)
        if suffix:
            text = f"{text} {suffix}"
        if text not in out and text != question:
            out.append(text)
        if len(out) == n:
            break
    return out
