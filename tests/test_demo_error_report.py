"""What `make run` prints when its demo fails: the whole cause, where the logs are, whether the stack is up.

Seen: ``demo failed: RuntimeError: airflow backfill create failed:`` and nothing else, because only the first line
of the error was printed and the CLI's output followed on the next lines; and "the stack is up" under
``make run ONCE=1``, which stops it. No servers here: a fake demo raises such an error.
"""

from __future__ import annotations

import os

import pytest

from game_analytics.localstack import demo as demo_module
from game_analytics.localstack import launcher
from game_analytics.localstack.demo_errors import demo_reporting_errors, readable_cause
from game_analytics.localstack.environment import StackPorts
from game_analytics.localstack.launcher import LocalStack

EXCEPTION_LINE = (
    "airflow.models.backfill.AlreadyRunningBackfill: Another backfill is running for Dag game_analytics_daily. "
    "There can be only one running backfill per Dag."
)
CLI_STDERR = "\n".join(
    [
        "Traceback (most recent call last):",
        '  File "/venv/bin/airflow", line 10, in <module>',
        "    sys.exit(main())",
        '  File "/venv/lib/python3.11/site-packages/airflow/models/backfill.py", line 666, in _create_backfill',
        "    raise AlreadyRunningBackfill(",
        EXCEPTION_LINE,
    ]
)
CLI_STDOUT = "\n".join(f"[2026-11-30T00:30:{n % 60:02d}] INFO - log line {n} of the CLI" for n in range(120))


def failing_demo() -> int:
    """What demo.backfill raises when `airflow backfill create` fails: its stdout, then its stderr."""
    raise RuntimeError(f"airflow backfill create failed:\n{CLI_STDOUT}\n\n{CLI_STDERR}")


@pytest.fixture
def stack(tmp_path):
    """A stack that is never started: only its state folder and ports are read."""
    said: list[str] = []
    stack = LocalStack(tmp_path / "state", StackPorts(airflow=18080), say=said.append)
    stack.said = said
    return stack


@pytest.mark.parametrize("stays_up", [True, False], ids=["make-run", "once"])
def test_a_failed_demo_prints_its_whole_cause_the_logs_and_whether_the_stack_is_up(stack, stays_up):
    assert demo_reporting_errors(stack, failing_demo, then_trickle=False, stays_up=stays_up) is None
    assert len(stack.said) == 1
    lines = stack.said[0].splitlines()
    assert lines[0] == "demo failed: RuntimeError: airflow backfill create failed:"
    assert f"    {EXCEPTION_LINE}" in lines  # the cause, the last line of the CLI's stderr
    assert "    [2026-11-30T00:30:59] INFO - log line 119 of the CLI" in lines  # the end of its stdout too
    assert "log line 0 " not in stack.said[0] and len(lines) < 50, "trimmed to something readable"
    logs = stack.state.logs
    assert any(str(logs) in line and str(logs / "tasks") in line for line in lines), lines
    assert EXCEPTION_LINE in (logs / "demo-error.log").read_text()  # the whole error, with its traceback
    if stays_up:
        assert "the stack is up" in lines[-1] and "http://localhost:18080" in lines[-1]
    else:
        assert "stack is up" not in stack.said[0] and "stopping" in lines[-1]


def test_the_exception_line_of_a_traceback_is_kept_when_more_output_follows():
    text = CLI_STDERR + "\n" + "\n".join(f"cleanup line {n}" for n in range(60))
    cause = readable_cause(text, max_lines=40)
    assert cause[0] == EXCEPTION_LINE and cause[1] == "[… 25 earlier line(s)]"
    assert cause[2:] == [f"cleanup line {n}" for n in range(20, 60)]
    assert readable_cause("one\n\n  \ntwo") == ["one", "two"]


def test_once_says_the_stack_stops_and_exits_non_zero(tmp_path, monkeypatch, capsys):
    """`make run ONCE=1` end to end through main(), with a stack that starts nothing and a demo that fails."""

    class NoServers(LocalStack):
        def start(self) -> None:
            self.airflow_started_at = None

    monkeypatch.setattr(launcher, "LocalStack", NoServers)
    monkeypatch.setattr(demo_module, "run_demo", lambda *args, **kwargs: failing_demo())
    monkeypatch.setattr(os, "environ", dict(os.environ))  # main() exports the stack's environment
    assert launcher.main(["up", "--once", "--state-dir", str(tmp_path / "state")]) == 1
    out = capsys.readouterr().out
    assert EXCEPTION_LINE in out and "stack is up" not in out and "stopping (--once)" in out
