"""The one exception type every layer raises for a failed operation the user should see."""


class GtError(Exception):
    """A failed operation: printed as one line, exit code 1 (or `code` when set)."""

    def __init__(self, message: str, code: str = "error") -> None:
        super().__init__(message)
        self.code = code


class CapError(GtError):
    """No slot for more work: a rig at its `max_polecats` (gt sling queues the work instead); `detail`
    says what holds the slots."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message, code="cap")
        self.detail = detail


class UsageError(GtError):
    """Bad input from the user: exit code 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="usage")
