"""Replay guard for signed WeChat callbacks: one body per signed (timestamp, nonce).

In plaintext mode WeChat signs the URL (token, timestamp, nonce), not the body, so anyone who saw
one signed URL could post any XML with it until the timestamp leaves the allowed window. Each
(timestamp, nonce) is remembered here with a digest of the body it came with:
- the first request with it goes on;
- the same bytes again are WeChat resending the same request (a retry), which goes on to the MsgId
  de-duplication (bot/routes/wechat.py) and gets the reply the first one got;
- another body under a signature already seen is refused.
WeChat's retries with a fresh timestamp and nonce are first uses, handled the same way.

Entries live in the channel's store (bot/wechat/dedup.py: Redis when REDIS_URL is set, so every
worker sees them; memory otherwise) until the timestamp is out of the window anyway. Safe mode's
body is covered by msg_signature, so there this only repeats what the signature already ensures.
"""

from __future__ import annotations

import hashlib
import time

from bot.wechat.dedup import TTLStore

REPLAY_KEY = "replay:"


async def admit(
    store: TTLStore, timestamp: str, nonce: str, body: bytes, max_skew_seconds: int, now: float | None = None
) -> bool:
    """True for a first use of this signed (timestamp, nonce) or the same body again; False for
    another body. `timestamp` has passed protocol.check_timestamp (digits, inside the window)."""
    digest = hashlib.sha256(body).hexdigest()
    now = time.time() if now is None else now
    ttl = max(1, int(timestamp) + max_skew_seconds - int(now) + 1)  # until check_timestamp refuses it
    key = f"{REPLAY_KEY}{timestamp}:{nonce}"
    if await store.add(key, digest, ttl):
        return True
    seen = await store.get(key)
    return seen is None or seen == digest  # None: expired meanwhile (or the store is down): a first use
