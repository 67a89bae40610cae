"""Rasa custom actions. Thin: each calls bot/'s HTTP API through a client in actions/api/."""

from masking import mask_every_handler

# rasa_sdk configures its logging (a coloured handler on the root logger) before it imports this
# package, so every handler exists here: each gets the same masking filter as bot/'s log
# (phone and ID numbers, WeChat OpenIDs; actions log sender ids).
mask_every_handler()
