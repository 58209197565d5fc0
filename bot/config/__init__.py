"""Team configuration: typed models and the loader for `schedules/*.toml`."""

from bot.config.loader import ConfigError, load_config
from bot.config.models import (
    Member,
    Pipeline,
    PipelineType,
    Policy,
    Rotation,
    RotationWeek,
    TeamConfig,
)

__all__ = [
    "ConfigError",
    "Member",
    "Pipeline",
    "PipelineType",
    "Policy",
    "Rotation",
    "RotationWeek",
    "TeamConfig",
    "load_config",
]
