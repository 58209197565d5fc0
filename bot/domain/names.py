"""Match what people type to pipeline slugs: slugs, aliases, display names, near misses."""

from __future__ import annotations

import difflib
import functools
import re

from bot.config.models import Pipeline, TeamConfig

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=4096)
def _norm(text: str) -> str:
    # Cached: every alert and every pipeline argument comes through here, mostly the same
    # few strings (issue #14).
    return _NON_ALNUM.sub("-", text.casefold()).strip("-")


def _keys(p: Pipeline) -> list[str]:
    return [_norm(k) for k in (p.slug, p.name, *p.aliases)]


# Lookup tables by config: built once per config, not on every alert. Keyed by id() with
# the config kept alive beside its table, so an id is never reused while cached.
_TABLES: dict[int, tuple[TeamConfig, dict[str, Pipeline]]] = {}


def _table(cfg: TeamConfig) -> dict[str, Pipeline]:
    held = _TABLES.get(id(cfg))
    if held is None or held[0] is not cfg:
        table: dict[str, Pipeline] = {}
        for p in cfg.pipelines:
            for key in _keys(p):
                table.setdefault(key, p)
        held = _TABLES[id(cfg)] = (cfg, table)
    return held[1]


def find_pipeline(cfg: TeamConfig, text: str) -> Pipeline | None:
    """`growth-agg`, `growth-aggregate`, `Growth — Aggregate` and `growth agg` all match."""
    want = _norm(text)
    return _table(cfg).get(want) if want else None


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
