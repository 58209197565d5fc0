"""Runbooks from disk: every `runbooks/*.md` parsed (bot/domain/runbook.py, which reads no
files) and checked against the team's configuration. Start-up and `oncall-bot check` load
them here once."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bot.domain.runbook import Runbook, RunbookError, parse_runbook_at


def load_runbooks(directory: Path) -> dict[str, Runbook]:
    """Load every ``*.md`` in ``directory`` keyed by slug; the first bad file raises."""
    if not directory.is_dir():
        raise FileNotFoundError(f"runbook directory not found: {directory}")
    runbooks: dict[str, Runbook] = {}
    for path in sorted(directory.glob("*.md")):
        source = str(path)
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise RunbookError(source, line, "file is not valid UTF-8") from exc
        runbook, slug_line = parse_runbook_at(text, source)
        if runbook.slug in runbooks:
            first = runbooks[runbook.slug].source
            raise RunbookError(source, slug_line, f"slug '{runbook.slug}' already used by {first}")
        if path.stem != runbook.slug:
            # The file name is how people find a runbook, so it must agree with the slug.
            raise RunbookError(
                source,
                slug_line,
                f"slug '{runbook.slug}' does not match the file name; rename the file to"
                f" {runbook.slug}.md or fix the slug",
            )
        runbooks[runbook.slug] = runbook
    return runbooks


def validate_runbooks(
    runbooks: dict[str, Runbook], pipeline_slugs: Iterable[str], dashboards: Iterable[str]
) -> list[str]:
    """Cross-check runbooks against configuration; returns problems, empty when consistent."""
    pipelines = list(dict.fromkeys(pipeline_slugs))
    known_dashboards = list(dict.fromkeys(dashboards))
    problems: list[str] = []
    for slug in pipelines:
        if slug not in runbooks:
            problems.append(f"pipeline '{slug}' has no runbook")
    for slug, runbook in sorted(runbooks.items()):
        if slug not in pipelines:
            problems.append(f"{runbook.source}: runbook '{slug}' is for an unknown pipeline")
    known = ", ".join(known_dashboards) or "none configured"
    for _, runbook in sorted(runbooks.items()):
        for step in runbook.steps:
            for name in step.dashboards:
                if name not in known_dashboards:
                    problems.append(
                        f"{runbook.source}: step {step.number} links unknown dashboard"
                        f" [[{name}]] (known: {known})"
                    )
    return problems
