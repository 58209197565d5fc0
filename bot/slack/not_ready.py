"""The one exception a sender raises to say "not yet": shared by the senders' modules."""

from __future__ import annotations


class NotReady(Exception):
    """The notice depends on a message not yet posted (the page); try again shortly.
    `on` names what it waits for, as `posts_for` names what a notice posts."""

    def __init__(self, on: str) -> None:
        super().__init__(f"waiting for {on}")
        self.on = on
