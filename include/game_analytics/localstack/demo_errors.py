"""What `make run` says when its demo fails: the whole cause, where the logs are, whether the stack is still up.

A failed demo used to print the first line of its error only ("airflow backfill create failed:" and nothing after
the colon), so the CLI's own error was lost. The cause is trimmed to something readable (its end, keeping the
exception line of every traceback in it) and written whole to ``logs/demo-error.log``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from game_analytics.localstack.launcher import LocalStack

CAUSE_LINES = 40  # the end of a failed demo's cause that is printed (the whole of it is in the demo's error log)
_TRACEBACK = "Traceback (most recent call last):"


def readable_cause(text: str, max_lines: int = CAUSE_LINES, width: int = 300) -> list[str]:
    """The meaningful end of an error's text (e.g. a failed CLI's stdout + stderr): blank lines dropped, long lines
    cut, the last ``max_lines`` kept. The exception line of each Python traceback in it (the first unindented
    line after the traceback's frames: ``airflow.models.backfill.AlreadyRunningBackfill: Another backfill…``)
    is kept too, even when it is further up than the last ``max_lines``."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    lines = [line if len(line) <= width else line[: width - 1] + "…" for line in lines]
    exception_lines, in_traceback = [], False
    for index, line in enumerate(lines):
        if line.startswith(_TRACEBACK):
            in_traceback = True
        elif in_traceback and not line[:1].isspace():
            exception_lines.append(index)
            in_traceback = False
    first_kept = max(len(lines) - max_lines, 0)
    earlier = [lines[i] for i in exception_lines if i < first_kept]
    skipped = first_kept - len(earlier)
    return earlier + ([f"[… {skipped} earlier line(s)]"] if skipped else []) + lines[first_kept:]


def report_demo_error(stack: LocalStack, exc: BaseException, stays_up: bool) -> str:
    """What a failed demo prints: the error with its whole cause (trimmed, see ``readable_cause``), where the
    logs are, and whether the stack is still up. The full error and its traceback go to ``logs/demo-error.log``."""
    import traceback

    text = str(exc).strip()
    headline, _, rest = text.partition("\n")
    log = stack.state.logs / "demo-error.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"{datetime.now(UTC).isoformat()}\n{''.join(traceback.format_exception(exc))}")
    lines = [f"demo failed: {type(exc).__name__}: {headline.strip() or '(no message)'}"]
    lines += [f"    {line}" for line in readable_cause(rest)]
    lines.append(
        f"logs: {stack.state.logs} (the servers' logs; this error with its traceback in {log.name}), "
        f"Airflow task logs in {stack.state.logs / 'tasks'}"
    )
    if stays_up:
        lines.append(f"the stack is up: look into it in the UI, http://localhost:{stack.ports.airflow} (Ctrl-C stops)")
    else:
        lines.append("the stack is stopping (--once); `make run` keeps it up after a failed demo, to look into it")
    return "\n".join(lines)


def demo_reporting_errors(
    stack: LocalStack, demo: Callable[[], int], then_trickle: bool = True, stays_up: bool = True
) -> int | None:
    """Run ``demo``; its failed runs (0 = all succeeded), or None when the demo itself failed.

    A demo error is reported (``report_demo_error``: its cause, the logs, whether the stack is up), not raised as a
    traceback that takes the stack down: in plain `make run` (``stays_up``) the UI, which is where one looks into
    it, stays up; with ``--once`` the caller stops the stack. The next start is not blocked by what this one left
    behind (see ``demo.cancel_stale_backfills``).
    """
    from game_analytics.config import load_settings
    from game_analytics.localstack.demo import live_trickle

    try:
        failed = demo()
    except Exception as exc:  # noqa: BLE001 - any demo error is reported, and the stack stays up
        stack.say(report_demo_error(stack, exc, stays_up))
        return None
    stack.say(f"{failed} failed run(s)" if failed else "all runs succeeded")
    if then_trickle:
        live_trickle(stack.process_env(), load_settings(stack.env), players=300, seed=8)
        stack.say("a live trickle of today's events keeps flowing; game_events_ingest loads it every 10 minutes")
    return failed
