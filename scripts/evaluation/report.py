"""The evaluation's printed table, eval.md and eval.png."""

from __future__ import annotations

SET_ORDER = ("test", "calibration", "dev")
HEAD = ("set", "in", "right", "wrong", "wrong/ans", "offered", "dead end", "oos", "oos decl", "ungrounded", "p50 ms")


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _row(name: str, s: dict) -> tuple:
    return (
        name,
        str(s["in_scope"]),
        _pct(s["right"]),
        _pct(s["wrong"]),
        _pct(s["wrong_of_answered"]),
        _pct(s["offered"]),
        _pct(s["dead_end"]),
        str(s["out_of_scope"]),
        _pct(s["out_of_scope_declined"]),
        str(s["replies_with_ungrounded_figures"]),
        f"{s['latency_ms_p50']}",
    )


def _table(rows: list[tuple], head: tuple) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def _sets(results: dict):
    return [(n, results["sets"][n]) for n in SET_ORDER if n in results["sets"]]


def console(results: dict) -> str:
    lines = []
    chat = [(n, s["chat"]["summary"]) for n, s in _sets(results) if "chat" in s]
    if chat:
        lines.append(f"end to end through {results.get('chat_url')}/api/chat (in scope: share of in-scope messages):")
        rows = [HEAD] + [_row(n, s) for n, s in chat]
        widths = [max(len(r[i]) for r in rows) + 2 for i in range(len(HEAD))]
        lines += ["".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
        test = dict(chat).get("test")
        if test:
            lines.append(
                f"test half: unanswerable declined {_pct(test['unanswerable_declined'])}, unrelated declined "
                f"{_pct(test['unrelated_declined'])}, chitchat ok {_pct(test['chitchat_ok'])}, "
                f"unsatisfiable labels {test['unsatisfiable_labels']}, HTTP errors {test['http_errors']}, "
                f"p95 {test['latency_ms_p95']} ms"
            )
    lines.append(
        "knowledge level (in process): top-1 / MRR@5 / answered right / answered wrong / declined of in-scope; "
        "out of scope declined"
    )
    for name, s in _sets(results):
        for mode, k in s["knowledge"].items():
            lines.append(
                f"  {name:<12} {mode:<7} top-1 {_pct(k['top1']):>6}  MRR@5 {k['mrr5']}  right {_pct(k['answered_right']):>6}"
                f"  wrong {_pct(k['answered_wrong']):>6}  declined {_pct(k['declined']):>6}  oos declined "
                f"{_pct(k['oos_declined']):>6}  p50 {k['latency_ms_p50']} ms"
            )
    return "\n".join(lines)


def markdown(results: dict) -> str:
    lines = ["# Evaluation", "", f"Index `{results['index']}`, model `{results['model']}`.", ""]
    chat = [(n, s["chat"]) for n, s in _sets(results) if "chat" in s]
    if chat:
        lines += [
            f"## End to end through `/api/chat` ({results.get('chat_url')})",
            "",
            "In-scope outcomes are shares of the in-scope messages; `wrong/ans` is wrong answers over answers given.",
            "",
        ]
        lines += _table([_row(n, c["summary"]) for n, c in chat], HEAD)
        for name, c in chat:
            lines += ["", f"### {name}: by message shape", ""]
            lines += _table([_row(k, v) for k, v in c["by_shape"].items()], ("shape",) + HEAD[1:])
            lines += ["", f"### {name}: by kind", ""]
            lines += _table([_row(k, v) for k, v in c["by_kind"].items()], ("kind",) + HEAD[1:])
            lines += ["", f"### {name}: wrong answers (expected -> answered instead)", ""]
            lines += _table(
                [(e, g, str(n)) for e, g, n in c["confusion"]] or [("-", "-", "0")],
                ("expected", "answered instead", "count"),
            )
            lines += ["", f"### {name}: per FAQ item", ""]
            lines += _table(
                [
                    (k, str(v["in_scope"]), _pct(v["right"]), _pct(v["wrong"]), _pct(v["offered"]), _pct(v["dead_end"]))
                    for k, v in c["by_item"].items()
                ],
                ("item", "messages", "right", "wrong", "offered", "dead end"),
            )
    lines += ["", "## Knowledge level (in process)", ""]
    rows = [
        (
            n,
            mode,
            _pct(k["top1"]),
            str(k["mrr5"]),
            _pct(k["answered_right"]),
            _pct(k["answered_wrong"]),
            _pct(k["suggested"]),
            _pct(k["declined"]),
            _pct(k["oos_declined"]),
            str(k["latency_ms_p50"]),
        )
        for n, s in _sets(results)
        for mode, k in s["knowledge"].items()
    ]
    lines += _table(
        rows,
        (
            "set",
            "mode",
            "top-1",
            "MRR@5",
            "answered right",
            "answered wrong",
            "suggested",
            "declined",
            "oos declined",
            "p50 ms",
        ),
    )
    lines += ["", "![outcomes](eval.png)", ""]
    return "\n".join(lines)


def plot(results: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chat = [(n, s["chat"]) for n, s in _sets(results) if "chat" in s]
    if not chat:
        return
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    outcomes = (("right", "#2a9d8f"), ("offered", "#e9c46a"), ("dead_end", "#adb5bd"), ("wrong", "#e76f51"))
    names = [n for n, _ in chat]
    left = [0.0] * len(chat)
    for key, color in outcomes:
        values = [c["summary"][key] or 0.0 for _, c in chat]
        axes[0].barh(names, values, left=left, color=color, label=key)
        left = [a + b for a, b in zip(left, values)]
    axes[0].axvline(0.92, color="k", linestyle="--", linewidth=1, label="target right 92%")
    axes[0].set_xlim(0, 1)
    axes[0].set_title("in scope, end to end")
    axes[0].legend(fontsize=8, loc="lower right")
    test = dict(chat).get("test") or chat[0][1]
    shapes = [(k, v) for k, v in test["by_shape"].items()]
    axes[1].bar(
        [k for k, _ in shapes],
        [v["right"] if v["in_scope"] else (v["out_of_scope_declined"] or v["chitchat_ok"] or 0.0) for _, v in shapes],
        color="#264653",
    )
    axes[1].set_ylim(0, 1)
    axes[1].set_title("test half by shape: right (in scope) / declined (out of scope)")
    axes[1].tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
