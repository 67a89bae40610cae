"""Measuring what users get. The labelled sets are read by knowledge/labelled.py.

- `replies`: what a person reads in a reply (an answer with its source, a decline, a form question,
  the figures it states);
- `scoring`: right / wrong / offered / dead end / declined, per message and summed up;
- `report`: the printed table, eval.md and the plot.
"""
