from gt.cli.common import Out, command


@command("stats")
def command(out: Out) -> None:
    """Counts by status, type and priority, and how many are ready and blocked.

    Example: bd stats
    """
    from gt.work.queries import stats
    from gt.work.tracker import Tracker

    result = stats(Tracker.open().view())

    def text() -> str:
        lines = [f"Total: {result['total']}  Open: {result['open']}  Closed: {result['closed']}  "
                 f"Ready: {result['ready']}  Blocked: {result['blocked']}"]
        for key in ("by_status", "by_type", "by_priority"):
            lines.append(f"{key.replace('_', ' ').capitalize()}: " + ", ".join(f"{k} {v}" for k, v in result[key].items()))
        return "\n".join(lines)

    out.emit(result, text)
