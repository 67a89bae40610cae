"""Rasa custom actions. Thin: each calls bot/'s HTTP API through a client in actions/api/."""
