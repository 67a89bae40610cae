"""Measuring what users get: evaluation sets, reading the assistant's replies, scoring, reports.

- `sets`: the three message sets (test, calibration, dev) in one shape, with the FAQ items each
  message expects;
- `replies`: what a person reads in a reply (an answer with its source, a decline, a form question,
  the figures it states);
- `scoring`: right / wrong / offered / dead end / declined, per message and summed up;
- `report`: the printed table, eval.md and the plot.
"""
