"""The local stack's Airflow metadata database: a PostgreSQL 16 server, run from the `pgserver` wheel's binaries.

Only the wheel's binaries (``pgserver/pginstall``) are used, never its Python API: ``initdb`` once when the data
folder (``StateDirs.postgres_data``) is new, then ``postgres`` in the foreground as one ``Server`` of the stack
(its own process group, its log in the state folder's logs), listening on ``bind_host()`` and
``GA_POSTGRES_PORT``. Unix sockets are off (``-k ''``): every client connects over TCP, so no socket path (which
has a 107-byte limit) depends on where the checkout is.

Authentication is ``trust`` (no password) for a local dev stack: initdb's ``pg_hba.conf`` lists loopback addresses
only, so even with ``GA_BIND_HOST=0.0.0.0`` a connection from the network is refused. Production's database is
docker-compose.yaml's (or a managed one) with its own password.

PostgreSQL refuses to run as root ("cannot be run as root"). As root (the sessions and CI), initdb and postgres
run as ``nobody``, the data folder is made theirs, and the folders on the way must be open to them: the state
folder itself gets o+x when it alone is closed (the tests' ``mkdtemp`` folder is 0700); binaries under a closed
folder (a checkout in /root) are copied once to the temp folder.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
from pathlib import Path

from game_analytics.localstack.environment import METADATA_DB, METADATA_DB_USER, StateDirs, bind_host
from game_analytics.localstack.servers import Server, StackError

SUPERUSER = "postgres"  # created by initdb; only this module uses it (to create the airflow role and database)
UNPRIVILEGED_USER = "nobody"  # who runs PostgreSQL when we are root


BUNDLED_LIBS = "pgserver.libs"  # the wheel's own copies of libpq and the like (auditwheel), beside pgserver/


def _pginstall() -> Path:
    # The wheel's folder, found without importing pgserver (its __init__ pulls in its own server management).
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("the pgserver wheel (PostgreSQL binaries of the local stack) is not installed: make install")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def server_user() -> pwd.struct_passwd | None:
    """Who runs initdb and postgres: None (this process's user), or ``nobody`` when this process is root."""
    return pwd.getpwnam(UNPRIVILEGED_USER) if os.geteuid() == 0 else None


def closed_folder(path: Path, user: pwd.struct_passwd) -> Path | None:
    """The first folder from / down to ``path`` (included) that ``user`` may not traverse, or None."""
    for folder in [*reversed(path.parents), path]:
        info = folder.stat()
        if info.st_uid == user.pw_uid:
            bit = stat.S_IXUSR
        elif info.st_gid == user.pw_gid:  # the server runs with its primary group only (no supplementary groups)
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return folder
    return None


def bin_dir(user: pwd.struct_passwd | None) -> Path:
    """The folder of initdb and postgres, one that ``user`` can reach (a copy in the temp folder if need be).

    The copy keeps the wheel's layout, ``pgserver/pginstall/{bin,lib,share}`` beside ``pgserver.libs``: the
    binaries find their bundled libraries (libpq, …) through the RPATH ``$ORIGIN/../../../pgserver.libs``.
    """
    install = _pginstall()
    if user is None or closed_folder(install / "bin", user) is None:
        return install / "bin"
    site = install.parent.parent
    copy = Path(tempfile.gettempdir()) / f"game-analytics-pgserver-site-{importlib.metadata.version('pgserver')}"
    copied_install = copy / install.relative_to(site)
    if not (copied_install / "bin" / "postgres").exists():
        staging = Path(tempfile.mkdtemp(prefix=copy.name + ".", dir=copy.parent))
        for part in ("bin", "lib", "share"):
            shutil.copytree(install / part, staging / install.relative_to(site) / part, symlinks=True)
        shutil.copytree(site / BUNDLED_LIBS, staging / BUNDLED_LIBS, symlinks=True)
        staging.chmod(0o755)
        try:
            staging.rename(copy)  # atomic: a concurrent test session sees a whole copy or none
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # the other session's copy won
    blocked = closed_folder(copied_install / "bin", user)
    if blocked is not None:
        raise StackError(f"PostgreSQL runs as {user.pw_name} here and cannot reach its binaries: {blocked} is closed")
    return copied_install / "bin"


def _open_the_way(state: StateDirs, user: pwd.struct_passwd) -> None:
    """Let ``user`` traverse down to the data folder: o+x on the state folder only, never on folders above it."""
    blocked = closed_folder(state.root, user)
    if blocked == state.root:
        state.root.chmod(state.root.stat().st_mode | stat.S_IXOTH)
        blocked = closed_folder(state.root, user)
    if blocked is not None:
        raise StackError(
            f"the local PostgreSQL runs as {user.pw_name} (it refuses root) and cannot reach {state.postgres_data}: "
            f"{blocked} is closed to other users. Choose a state folder under an open one, e.g. "
            f"GA_STATE_DIR=/tmp/game-analytics-state, or run as a non-root user"
        )


def _as_user(user: pwd.struct_passwd | None) -> dict:
    return {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def init_data_dir(state: StateDirs) -> bool:
    """initdb into the data folder unless it holds a cluster already; True when it ran."""
    data = state.postgres_data
    if (data / "PG_VERSION").exists():
        return False
    user = server_user()
    if user is not None:
        _open_the_way(state, user)
    # initdb into a new folder, renamed when complete: an interrupted initdb leaves no half cluster behind
    staging = data.with_name(data.name + ".initdb")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700, parents=True)
    if user is not None:
        os.chown(staging, user.pw_uid, user.pw_gid)
    argv = [
        str(bin_dir(user) / "initdb"), "-D", str(staging), "-U", SUPERUSER,
        "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync",
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, cwd="/", **_as_user(user))
    if done.returncode != 0:
        raise StackError(f"initdb of the Airflow metadata DB failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    try:
        if data.exists():
            data.rmdir()  # an empty folder; anything else in it is not ours to delete
        staging.rename(data)
    except OSError as exc:
        raise StackError(f"{data} holds files but no PostgreSQL cluster (no PG_VERSION); move it away") from exc
    return True


def postgres_server(state: StateDirs, port: int, env: dict[str, str]) -> Server:
    """The ``postgres`` server of an initialised data folder (not started)."""
    user = server_user()
    if user is not None:
        _open_the_way(state, user)
    argv = [
        str(bin_dir(user) / "postgres"), "-D", str(state.postgres_data), "-p", str(port), "-h", bind_host(),
        "-k", "",  # no Unix socket: clients use TCP
        "-c", "max_connections=200",  # Airflow's components and task processes each keep a connection pool
        # A crash can lose the last transactions' commits but never corrupts the cluster; saves a flush per commit
        "-c", "synchronous_commit=off",
    ]  # fmt: skip
    return Server(
        "postgres",
        argv,
        state.logs / "postgres.log",
        env=env,
        user=None if user is None else user.pw_name,
        stop_signal=signal.SIGINT,  # "fast shutdown": SIGTERM ("smart") would wait for every client to disconnect
    )


def ensure_airflow_database(port: int) -> bool:
    """Connect as the superuser and create the airflow role and database if missing (the health check)."""
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres", connect_timeout=2)
    try:
        conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (METADATA_DB_USER,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE ROLE "{METADATA_DB_USER}" LOGIN')
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (METADATA_DB,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{METADATA_DB}" OWNER "{METADATA_DB_USER}" ENCODING \'UTF8\'')
    finally:
        conn.close()
    return True
