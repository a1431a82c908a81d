"""The one error type a source raises when its body or folder holds nothing usable."""


class SourceError(ValueError):
    """Nothing usable came out of a source; ``reason`` is a short machine-readable cause for the report."""

    def __init__(self, reason: str, detail: str):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")
