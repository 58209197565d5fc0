"""`python -m bot.cli`, as `python -m bot`: the `oncall-bot` command."""

import sys

from bot.cli import main

sys.exit(main())
