"""Match what people type to pipeline slugs: slugs, aliases, display names, near misses."""

from __future__ import annotations

import difflib
import re

from bot.config.models import Pipeline, TeamConfig


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


def _keys(p: Pipeline) -> list[str]:
    return [_norm(k) for k in (p.slug, p.name, *p.aliases)]


def find_pipeline(cfg: TeamConfig, text: str) -> Pipeline | None:
    """`growth-agg`, `growth-aggregate`, `Growth — Aggregate` and `growth agg` all match."""
    want = _norm(text)
    if not want:
        return None
    for p in cfg.pipelines:
        if want in _keys(p):
            return p
    return None


def suggest_pipeline(cfg: TeamConfig, text: str) -> str | None:
    """The nearest slug to a near miss, or None when nothing is close."""
    want = _norm(text)
    table = {key: p.slug for p in cfg.pipelines for key in _keys(p)}
    close = difflib.get_close_matches(want, list(table), n=1, cutoff=0.5)
    return table[close[0]] if close else None


def unknown_pipeline_message(cfg: TeamConfig, text: str) -> str:
    hint = suggest_pipeline(cfg, text)
    valid = ", ".join(f"`{p.slug}`" for p in cfg.pipelines)
    did = f" Did you mean `{hint}`?" if hint else ""
    return f"Unknown pipeline `{text}`.{did} Valid pipelines: {valid}."
