"""The Rasa server as this project runs it: Rasa's own CLI, started after `speedups.apply()`.

Runs in the Rasa runtime (Python 3.10), like actions/, and imports neither bot/ nor knowledge/.
"""
