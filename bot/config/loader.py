"""Read `schedules/*.toml` into a validated TeamConfig.

Every error names the file, the field and the bad value, because the people editing these
files are on-call engineers in a hurry, not the authors of this code.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.config.models import Member, Pipeline, PipelineType, Policy, Rotation, TeamConfig

M = TypeVar("M", bound=BaseModel)

FILES = {
    "members": "team.toml",
    "pipelines": "pipelines.toml",
    "rotation": "rotation.toml",
    "policy": "policy.toml",
}


class ConfigError(Exception):
    """A configuration problem; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(path: Path, exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> list[str]:
    lines = []
    for err in exc.errors():
        where = _loc(prefix + tuple(err["loc"]))
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {where}: {msg}{shown}")
    return lines


def _read(path: Path, problems: list[str]) -> dict[str, Any] | None:
    if not path.is_file():
        problems.append(f"{path}: file not found")
        return None
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: not valid TOML: {exc}")
        return None


def _model(
    cls: type[M], data: Any, path: Path, problems: list[str], prefix: tuple[int | str, ...]
) -> M | None:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        problems.extend(_describe(path, exc, prefix))
        return None


def load_config(directory: Path) -> TeamConfig:
    """Load and cross-check the four files; raise ConfigError listing every problem found."""
    problems: list[str] = []
    paths = {key: directory / name for key, name in FILES.items()}
    raw = {key: _read(p, problems) for key, p in paths.items() if key != "policy"}
    policy_raw = _read(paths["policy"], problems) if paths["policy"].exists() else {}
    if problems:
        raise ConfigError(problems)

    members = [
        _model(Member, m, paths["members"], problems, ("members", i))
        for i, m in enumerate(_list(raw["members"], "members", paths["members"], problems))
    ]
    pipelines = [
        _model(Pipeline, p, paths["pipelines"], problems, ("pipelines", i))
        for i, p in enumerate(_list(raw["pipelines"], "pipelines", paths["pipelines"], problems))
    ]
    rotation = _model(Rotation, raw["rotation"], paths["rotation"], problems, ())
    policy = _model(Policy, policy_raw, paths["policy"], problems, ())
    if problems:
        raise ConfigError(problems)
    assert rotation is not None and policy is not None
    cfg_members = [m for m in members if m is not None]
    cfg_pipelines = [p for p in pipelines if p is not None]
    problems.extend(_cross_check(cfg_members, cfg_pipelines, rotation, policy, paths))
    if problems:
        raise ConfigError(problems)
    try:
        return TeamConfig(
            members=cfg_members, pipelines=cfg_pipelines, rotation=rotation, policy=policy
        )
    except ValidationError as exc:
        raise ConfigError(_describe(directory, exc)) from exc


def _list(data: dict[str, Any] | None, key: str, path: Path, problems: list[str]) -> list[Any]:
    value = (data or {}).get(key)
    if not isinstance(value, list) or not value:
        problems.append(f"{path}: {key}: expected a non-empty array of tables ([[{key}]])")
        return []
    return value


def _dupes(values: list[str]) -> set[str]:
    seen: set[str] = set()
    return {v for v in values if v in seen or seen.add(v)}  # type: ignore[func-returns-value]


def _cross_check(
    members: list[Member],
    pipelines: list[Pipeline],
    rotation: Rotation,
    policy: Policy,
    paths: dict[str, Path],
) -> list[str]:
    out: list[str] = []
    initials = [m.initials for m in members]
    known = set(initials)
    valid = ", ".join(initials)
    for dup in sorted(_dupes(initials)):
        out.append(f"{paths['members']}: members: initials {dup!r} used twice")
    for dup in sorted(_dupes([m.slack_id for m in members if m.slack_id])):
        out.append(f"{paths['members']}: members: slack_id {dup!r} used twice")
    slugs = [p.slug for p in pipelines]
    for dup in sorted(_dupes(slugs)):
        out.append(f"{paths['pipelines']}: pipelines: slug {dup!r} used twice")
    investor = {p.slug for p in pipelines if p.type is PipelineType.INVESTOR}

    def member(path: Path, where: str, who: str) -> None:
        if who not in known:
            out.append(f"{path}: {where}: unknown member {who!r} (valid: {valid})")

    for i, p in enumerate(pipelines):
        member(paths["pipelines"], f"pipelines[{i}].primary", p.primary)
        member(paths["pipelines"], f"pipelines[{i}].secondary", p.secondary)
        if p.primary == p.secondary:
            out.append(
                f"{paths['pipelines']}: pipelines[{i}]: "
                f"primary and secondary are both {p.primary!r}"
            )
        for dep in p.hard_dependency_of:
            if dep not in investor:
                out.append(
                    f"{paths['pipelines']}: pipelines[{i}].hard_dependency_of: {dep!r} is not an "
                    f"investor pipeline (valid: {', '.join(sorted(investor))})"
                )
    for i, w in enumerate(rotation.weeks):
        member(paths["rotation"], f"weeks[{i}].primary", w.primary)
        member(paths["rotation"], f"weeks[{i}].backup", w.backup)
    for who in policy.escalation.lead_preference or []:
        member(paths["policy"], "escalation.lead_preference", who)
    return out
