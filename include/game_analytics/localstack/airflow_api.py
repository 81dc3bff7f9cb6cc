"""A minimal client of Airflow's REST API (v2) for the demo and the end-to-end tests."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

FINISHED = {"success", "failed"}
# Between two reads of a state that is awaited: a REST read costs milliseconds, a longer pause only delays whoever
# waits (the demo, the tests) by half of it on average, at every wait.
POLL_SECONDS = 0.5


@dataclass
class AirflowApi:
    port: int
    username: str = "admin"
    password: str = "admin"
    _token: str | None = field(default=None, repr=False)

    def _request(self, path: str, body: dict | None = None, auth: bool = True, method: str | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = json.dumps(body).encode() if body is not None else None
        url = f"http://127.0.0.1:{self.port}{path}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 - loopback
            return json.load(resp)

    def token(self) -> str:
        if self._token is None:
            body = {"username": self.username, "password": self.password}
            self._token = self._request("/auth/token", body, auth=False)["access_token"]
        return self._token

    def post(self, path: str, body: dict) -> dict:
        return self._request(path, body)

    def put(self, path: str, body: dict | None = None) -> dict:
        return self._request(path, body if body is not None else {}, method="PUT")

    def patch(self, path: str, body: dict) -> dict:
        return self._request(path, body, method="PATCH")

    def set_paused(self, dag_id: str, paused: bool) -> dict:
        return self.patch(f"/api/v2/dags/{dag_id}", {"is_paused": paused})

    def get(self, path: str, **query) -> dict:
        suffix = f"?{urllib.parse.urlencode(query, doseq=True)}" if query else ""
        return self._request(path + suffix)

    def dags(self) -> dict[str, dict]:
        return {d["dag_id"]: d for d in self.get("/api/v2/dags", limit=100)["dags"]}

    def wait_for_dags(self, expected: set[str], timeout: float = 180) -> dict[str, dict]:
        deadline, dags = time.monotonic() + timeout, {}
        while time.monotonic() < deadline:
            dags = self.dags()
            if expected <= dags.keys():
                return dags
            time.sleep(POLL_SECONDS)
        raise TimeoutError(f"DAGs {sorted(expected - dags.keys())} not listed after {timeout:.0f} s")

    def dag_runs(self, dag_id: str) -> list[dict]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns", limit=100, order_by="logical_date")["dag_runs"]

    def runs_by_day(self, dag_id: str, days: list[str]) -> dict[str, dict]:
        """The newest run of each day (logical date), by day."""
        found: dict[str, dict] = {}
        for run in self.dag_runs(dag_id):
            day = (run.get("logical_date") or "")[:10]
            if day in days:
                found[day] = run
        return found

    def wait_for_runs(self, dag_id: str, days: list[str], timeout: float = 900) -> dict[str, dict]:
        deadline, runs = time.monotonic() + timeout, {}
        while time.monotonic() < deadline:
            runs = self.runs_by_day(dag_id, days)
            if len(runs) == len(days) and all(r["state"] in FINISHED for r in runs.values()):
                return runs
            time.sleep(POLL_SECONDS)
        states = {d: r["state"] for d, r in runs.items()}
        raise TimeoutError(f"{dag_id} runs for {days} not finished after {timeout:.0f} s: {states}")

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 900) -> dict:
        quoted = urllib.parse.quote(run_id, safe="")
        deadline, run = time.monotonic() + timeout, {}
        while time.monotonic() < deadline:
            run = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{quoted}")
            if run["state"] in FINISHED:
                return run
            time.sleep(POLL_SECONDS)
        raise TimeoutError(f"{dag_id} run {run_id} not finished after {timeout:.0f} s: {run.get('state')}")

    def run_now(self, dag_id: str, timeout: float = 900) -> dict:
        """Trigger a run of ``dag_id`` without a logical date and wait until it finished; the finished run."""
        run = self.post(f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None})
        return self.wait_for_run(dag_id, run["dag_run_id"], timeout)

    def unfinished_backfills(self, dag_id: str) -> list[dict]:
        """The backfills of ``dag_id`` not completed yet, newest first (at most one is running at a time)."""
        found = self.get("/api/v2/backfills", dag_id=dag_id, limit=100, order_by="-id")["backfills"]
        return [b for b in found if b["completed_at"] is None]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        quoted = urllib.parse.quote(run_id, safe="")
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances", limit=100)["task_instances"]

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1):
        quoted = urllib.parse.quote(run_id, safe="")
        path = f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances/{task_id}/xcomEntries/{key}"
        return self.get(path, map_index=map_index).get("value")

    def xcoms_of_every_map_index(self, dag_id: str, run_id: str, task_id: str) -> list:
        """The return value of each task instance of ``task_id`` in the run (one per map index of a mapped task)."""
        indexes = sorted(ti["map_index"] for ti in self.task_instances(dag_id, run_id) if ti["task_id"] == task_id)
        return [self.xcom(dag_id, run_id, task_id, map_index=i) for i in indexes]
