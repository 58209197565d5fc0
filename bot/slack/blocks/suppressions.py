"""Suppression replies and announcements (maintenance windows)."""

from __future__ import annotations

from bot.config.models import TeamConfig
from bot.domain.durations import human_duration
from bot.domain.suppressions import Suppression
from bot.domain.timefmt import period, plural, stamp
from bot.slack.blocks.common import Reply, section


def _what(cfg: TeamConfig, s: Suppression) -> str:
    if s.covers_all:
        return "every pipeline"
    return cfg.pipeline(s.pipeline).name


def _by(cfg: TeamConfig, initials: str) -> str:
    try:
        return cfg.member(initials).mention
    except KeyError:
        return initials


def _line(cfg: TeamConfig, s: Suppression) -> str:
    zone = cfg.zone
    reason = f": {s.reason}" if s.reason else ""
    span = human_duration(s.ends_at - s.starts_at)
    return (
        f"*{s.id}* {_what(cfg, s)}, {period(s.starts_at, s.ends_at, zone)} "
        f"({span}), by {_by(cfg, s.created_by)}{reason} · "
        f"{plural(s.suppressed, 'alert')} suppressed"
    )


def started_text(cfg: TeamConfig, s: Suppression) -> str:
    reason = f" Reason: {s.reason}." if s.reason else ""
    start = "" if s.starts_at <= s.created_at else f" from {stamp(s.starts_at, cfg.zone)}"
    return (
        f":mute: Alerts for {_what(cfg, s)} are suppressed{start} until "
        f"{stamp(s.ends_at, cfg.zone)} ({s.id}, by {_by(cfg, s.created_by)}).{reason} They are "
        f"recorded and counted; nobody is paged. `/oncall unsuppress {s.id}` ends it early."
    )


def ended_text(cfg: TeamConfig, s: Suppression) -> str:
    how = (
        f"ended early by {_by(cfg, s.cancelled_by)}"
        if s.cancelled_by and s.cancelled_at is not None and s.cancelled_at < s.ends_at
        else "ended"
    )
    return (
        f":loud_sound: Suppression {s.id} of {_what(cfg, s)} {how} at "
        f"{stamp(s.ended_at, cfg.zone)}: {plural(s.suppressed, 'alert')} suppressed while it "
        "lasted. Alerts page again."
    )


def created_reply(cfg: TeamConfig, s: Suppression, channels: list[str]) -> Reply:
    text = f"{started_text(cfg, s)} Announced in {', '.join(channels)}."
    return Reply(text=text, blocks=[section(text)])


def cancelled_reply(cfg: TeamConfig, s: Suppression) -> Reply:
    text = ended_text(cfg, s)
    return Reply(text=text, blocks=[section(text)])


def list_reply(cfg: TeamConfig, active: list[Suppression], upcoming: list[Suppression]) -> Reply:
    if not active and not upcoming:
        text = "No suppressions: every alert pages as usual. `/oncall suppress` adds one."
        return Reply(text=text, blocks=[section(text)])
    parts = []
    if active:
        parts.append("*Active*\n" + "\n".join(f"• {_line(cfg, s)}" for s in active))
    if upcoming:
        parts.append("*Upcoming*\n" + "\n".join(f"• {_line(cfg, s)}" for s in upcoming))
    text = "\n\n".join(parts)
    return Reply(text=text, blocks=[section(p) for p in parts])
