"""Placeholder until the owning stage registers its sub-command here."""


def register(subparsers) -> None:
    """Add this module's sub-command(s) to the ``newswire`` parser."""
