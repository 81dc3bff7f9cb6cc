"""Tables whose partition D is built from their own partition D-1 (``builds_on_previous_day`` in metadata.yaml).

``user_lifetime_stats`` carries every player's state from D-1 to D, so D must be built after D-1, whatever order the
runs start in: a backfill runs several days at once (``max_active_runs``), or backwards with ``--run-backwards``.
The task that builds D therefore first looks at D-1:

- a run of the DAG for D-1 is queued or running and has not built D-1 yet (its task for this table has not
  succeeded): wait (reschedule mode, no worker slot held) and look again; this holds also when an older partition
  D-1 is there, as in a reprocessing backfill, which re-runs D-1 before D reads it;
- partition D-1 holds rows: build D from it;
- the run of D-1 failed before building it: fail, saying so (re-run D-1, then D), rather than start a new history
  under a day that has one;
- no run of D-1, or one that succeeded with nothing to carry (D-1's state was empty): D starts the history (every
  player of D is new), and the task says so in its log and its XCom.

A backfill therefore gives the in-order result in any order; D-1 missing (never run) starts the history at D, so a
history is built by backfilling from its first day. With ``--run-backwards --max-active-runs 1`` D holds the only
run slot while D-1 is queued behind it: the task waits until its timeout and then fails naming D-1 (do not
combine them for these tables).

The build itself is the same atomic replace of partition D as every metric table (``sql/replace_partition.sql``),
run afresh on every try. The decision is pure logic (:func:`verdict`); the operator asks Airflow for the runs of
D-1 through the Task SDK (``get_dr_count``), never the metadata database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout

from game_analytics.config import load_settings
from game_analytics.daily.completeness import is_cli_test_run
from game_analytics.daily.training_window import DagRunCounter, midnights
from game_analytics.timetables import processed_day
from game_analytics.warehouse.sql_templates import render_sql

BUILD, WAIT, START, FAIL = "build", "wait", "start history", "fail"
UNFINISHED_STATES = ["queued", "running"]
WAIT_HOURS = 6  # how long D waits for the run of D-1 before it fails


@dataclass(frozen=True)
class Verdict:
    action: str  # BUILD, WAIT, START or FAIL
    reason: str


def verdict(table: str, day: date, previous_has_rows: bool, pending: int, failed: int) -> Verdict:
    """What the task building ``table``'s partition ``day`` does, given partition D-1 and the runs of D-1.

    ``pending``: runs of D-1 queued or running whose ``table`` task has not succeeded yet (a reprocessing backfill
    re-runs D-1 while its old partition still has rows: D must wait for the new one, not build on the old).
    """
    previous = day - timedelta(days=1)
    if pending:
        return Verdict(WAIT, f"waiting for the run of {previous} (queued or running) to build {table} for {previous}")
    if previous_has_rows:
        return Verdict(BUILD, f"{table} for {previous} is there: building {day} from it")
    if failed:
        return Verdict(
            FAIL,
            f"the run of {previous} failed before building {table} for {previous}: re-run {previous}, then {day} "
            f"(airflow backfill create --from-date {previous} --to-date {day} --reprocess-behavior completed)",
        )
    return Verdict(
        START,
        f"no {table} for {previous} and no run of {previous} will build one: {day} starts the history (every "
        f"player of {day} is new; backfill from the first day of the history to include earlier days)",
    )


class BuildOnPreviousDay(BaseSensorOperator):
    """Builds partition D of ``table`` once partition D-1 is settled (see the module docstring)."""

    def __init__(self, *, table: str, **kwargs) -> None:
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("poke_interval", load_settings().sensor_poke_seconds)
        kwargs.setdefault("timeout", WAIT_HOURS * 3600)
        super().__init__(task_id=table, **kwargs)
        self.table = table
        self._last = Verdict(WAIT, "not checked yet")

    def poke(self, context) -> PokeReturnValue:
        from game_analytics.warehouse.client import airflow_bigquery_client

        settings = load_settings()
        day = processed_day(context)
        client = airflow_bigquery_client(settings)
        previous = [day - timedelta(days=1)]
        sql = render_sql("partition_has_rows.sql", settings, table=self.table, ds=previous[0].isoformat())
        has_rows = client.query(sql).result().total_rows > 0
        ti = context["ti"]
        counter = DagRunCounter(lambda **kw: ti.get_dr_count(dag_id=ti.dag_id, **kw))
        pending = counter.runs(previous, UNFINISHED_STATES)
        if pending:  # D-1's run is in flight: has it built D-1 already (this table's task succeeded in it)?
            built = ti.get_ti_count(
                dag_id=ti.dag_id, task_ids=[self.table], logical_dates=midnights(previous), states=["success"]
            )
            pending = 0 if built else pending
        failed = 0 if has_rows or pending else counter.runs(previous, ["failed"])
        self._last = verdict(self.table, day, has_rows, pending, failed)
        self.log.info("%s", self._last.reason)
        if self._last.action == FAIL or (self._last.action == WAIT and is_cli_test_run(context)):
            raise AirflowException(self._last.reason)
        if self._last.action == WAIT:
            return PokeReturnValue(is_done=False)
        job = client.query(render_sql("replace_partition.sql", settings, params={"table": self.table}, ds=str(day)))
        job.result()
        return PokeReturnValue(is_done=True, xcom_value={"day": str(day), "from_previous_day": has_rows})

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowSensorTimeout as exc:
            raise AirflowSensorTimeout(
                f"{self.table} not built after {self.timeout:.0f} s: {self._last.reason}"
            ) from exc
