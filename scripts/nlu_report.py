"""Print the figures of `rasa test nlu --cross-validation` (make eval-nlu): intent F1 and the
recall of out_of_scope, the intent that keeps requests about other things out of the forms.

    python -m scripts.nlu_report var/reports/nlu
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def summary(report: dict) -> list[str]:
    intents = {
        k: v
        for k, v in report.items()
        if isinstance(v, dict) and "f1-score" in v and k not in ("micro avg", "macro avg", "weighted avg")
    }
    lines = [
        f"intent F1 (cross-validation): weighted {report['weighted avg']['f1-score']:.3f}, "
        f"macro {report['macro avg']['f1-score']:.3f}, accuracy {report.get('accuracy', float('nan')):.3f}"
    ]
    oos = intents.get("out_of_scope")
    if oos:
        lines.append(
            f"out_of_scope: recall {oos['recall']:.3f}, precision {oos['precision']:.3f} ({oos['support']} examples)"
        )
    lines.append("per intent (f1 / recall / support):")
    lines += [
        f"  {name:<22} {v['f1-score']:.3f} / {v['recall']:.3f} / {v['support']}"
        for name, v in sorted(intents.items(), key=lambda kv: kv[1]["f1-score"])
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    folder = Path((argv or sys.argv[1:] or ["var/reports/nlu"])[0])
    path = folder / "intent_report.json"
    if not path.is_file():
        print(f"[nlu_report] no {path}: run make eval-nlu", file=sys.stderr)
        return 1
    print("\n".join(summary(json.loads(path.read_text(encoding="utf-8")))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
