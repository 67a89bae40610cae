"""The WeChat Official Account (公众号) channel.

- `protocol`: signatures, replay window, safe-mode crypto, XML parsing and passive replies (wechatpy).
- `replies`: Rasa's bot messages rendered as WeChat text (numbered options, tables, long texts).
- `dedup`: a small TTL store (memory or Redis) for WeChat's retries and the numbered options.
- `delivery`: the customer-service message API, for replies that miss the 5-second window.
- `conversation`: one user message in, what to say back out (Rasa, hand-off, numbered options).

The HTTP route lives in `bot/routes/wechat.py`.
"""
