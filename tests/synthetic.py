"""Generated runbooks for tests of Slack's size limits."""

from __future__ import annotations

from bot.domain.runbook import Runbook, parse_runbook


def long_runbook_text(steps: int, slug: str = "growth-agg", detail_words: int = 6) -> str:
    lines = [
        "# Growth — Aggregate",
        "",
        f"- **Slug:** {slug}",
        "- **Type:** investor",
        "",
        "## Purpose",
        "A synthetic runbook with many steps.",
        "",
        "## Diagnostics checklist",
    ]
    filler = " ".join(["inspect"] * detail_words)
    for n in range(1, steps + 1):
        lines.append(f"{n}. **Check number {n}:** {filler} item {n}. See [[Ops Overview]].")
    return "\n".join(lines) + "\n"


def long_runbook(steps: int, detail_words: int = 6) -> Runbook:
    return parse_runbook(long_runbook_text(steps, detail_words=detail_words), "synthetic.md")
