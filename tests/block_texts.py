"""The texts of Block Kit blocks (sections and the elements of context blocks), for tests
that check an answer lost nothing."""

from __future__ import annotations

from typing import Any


def block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    out = []
    for b in blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        out.extend(e["text"] for e in b.get("elements", []) if "text" in e)
    return out
