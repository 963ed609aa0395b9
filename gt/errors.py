"""The one exception type every layer raises for a failed operation the user should see."""


class GtError(Exception):
    """A failed operation: printed as one line, exit code 1 (or `code` when set)."""

    def __init__(self, message: str, code: str = "error") -> None:
        super().__init__(message)
        self.code = code


class UsageError(GtError):
    """Bad input from the user: exit code 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="usage")
