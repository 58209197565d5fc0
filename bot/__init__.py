"""oncall-bot: a Slack bot that runs on-call for a data-engineering team."""

__version__ = "0.1.0"
