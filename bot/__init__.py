"""bot/: the FastAPI edge — chat gateway, knowledge API, registration backend, channels."""
