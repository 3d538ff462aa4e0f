"""What docs/cluster.md ships: a wheel
that holds the whole package and runs on its own, and the Dockerfile of the scheduler
and worker image, whose commands are run here as far as they can be without Docker."""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "docs" / "worker.Dockerfile"
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "version"]
#: The name ``python -m build`` gives the wheel (setuptools writes batch-ocr as batch_ocr).
WHEEL_NAME = f"batch_ocr-{VERSION}-py3-none-any.whl"
SCRIPTS = {"batch-ocr", "batch-ocr-emulator", "batch-ocr-forget", "batch-ocr-report",
           "batch-ocr-server"}


def _package_files() -> list[str]:
    """Every file of the package in this checkout (caches aside), relative to the repo."""
    return sorted(path.relative_to(REPO).as_posix() for path in (REPO / "batch_ocr").rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts
                  and path.suffix != ".pyc")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build`` on a copy of the sources, as docs/cluster.md says to run it (an
    sdist first, the wheel built from it, in build's own isolated environment)."""
    pytest.importorskip("build", reason="the 'dev' extra's build is not installed")
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "batch_ocr", source / "batch_ocr",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = subprocess.run([sys.executable, "-m", "build", "--outdir", str(root / "dist"),
                            str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheels = list((root / "dist").glob("*.whl"))
    assert [path.name for path in wheels] == [WHEEL_NAME]
    return wheels[0]


@pytest.mark.slow  # builds an sdist and a wheel: 20-30 s
def test_the_wheel_holds_every_file_of_the_package_its_scripts_and_extras(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"batch_ocr-{VERSION}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode("utf-8")
        entry_points = archive.read(f"{info}/entry_points.txt").decode("utf-8")
    missing = [name for name in _package_files() if name not in names]
    assert not missing, f"files of the package not in the wheel: {missing}"
    assert "Name: batch-ocr" in metadata and f"Version: {VERSION}" in metadata
    extras = {line.split(":", 1)[1].strip() for line in metadata.splitlines()
              if line.startswith("Provides-Extra:")}
    assert {"local", "dask"} <= extras
    assert any(line.startswith("Requires-Dist: rapidocr") and 'extra == "local"' in line
               for line in metadata.splitlines())
    scripts = entry_points.split("[console_scripts]", 1)[1].split("\n[", 1)[0]
    assert {line.split("=")[0].strip() for line in scripts.splitlines() if "=" in line} == SCRIPTS


@pytest.mark.slow  # the wheel fixture builds first
def test_the_wheel_alone_imports_every_module_and_runs(wheel: Path, tmp_path: Path) -> None:
    """Unpacked where nothing else of this checkout is on the path, every module of the
    wheel imports (a subpackage left out of it would fail here) and the command runs."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    env = {key: value for key, value in os.environ.items() if not key.startswith("BATCH_OCR_")}
    env["PYTHONPATH"] = str(site)
    script = (
        "import importlib, pkgutil, batch_ocr\n"
        "names = [m.name for m in pkgutil.walk_packages(batch_ocr.__path__, 'batch_ocr.')\n"
        "         if not m.name.endswith('__main__')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(batch_ocr.__file__, len(names))\n"
    )
    imported = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
    assert imported.returncode == 0, imported.stderr[-3000:]
    where, count = imported.stdout.split()
    assert Path(where).is_relative_to(site) and int(count) > 50
    version = subprocess.run([sys.executable, "-m", "batch_ocr", "--version"], cwd=tmp_path,
                             env=env, capture_output=True, text=True, timeout=60)
    assert version.stdout == f"batch-ocr {VERSION}\n"


# -- the scheduler and worker image --------------------------------------------------------

def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments dropped, continued lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        instructions.append((keyword, arguments.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def test_the_worker_dockerfile_parses_and_takes_the_wheel_the_build_makes() -> None:
    instructions = dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))
    keywords = [keyword for keyword, _ in instructions]
    assert set(keywords) <= {"FROM", "COPY", "RUN", "ENV", "USER", "WORKDIR", "EXPOSE", "CMD"}
    assert instructions[0] == ("FROM", "python:3.11-slim")  # requires-python >= 3.11
    (copy,) = [arguments for keyword, arguments in instructions if keyword == "COPY"]
    source, target = copy.split()
    assert fnmatch.fnmatch(WHEEL_NAME, source) and target == "/tmp/wheels/"
    for keyword, arguments in instructions:
        if keyword == "RUN":  # shell form: /bin/sh -c
            checked = subprocess.run(["sh", "-n", "-c", arguments], capture_output=True,
                                     text=True, timeout=10)
            assert checked.returncode == 0, checked.stderr
        if keyword == "CMD":  # exec form: a JSON array of strings
            command = json.loads(arguments)
            assert isinstance(command, list) and all(isinstance(a, str) for a in command)


def test_the_dockerfile_run_installs_the_one_wheel_and_gives_the_chart_its_commands(
        tmp_path: Path) -> None:
    """The RUN instruction, run by sh in a sandbox: its paths moved under ``tmp_path``,
    pip and useradd replaced by recorders. The scripts it writes for the Helm chart
    run ``dask scheduler`` and ``dask worker`` (here, this environment's)."""
    (run,) = [arguments for keyword, arguments in
              dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))
              if keyword == "RUN"]
    wheels, bin_dir, tools = tmp_path / "wheels", tmp_path / "bin", tmp_path / "tools"
    for folder in (wheels, bin_dir, tools):
        folder.mkdir()
    (wheels / WHEEL_NAME).write_bytes(b"a wheel")
    calls = tmp_path / "calls.txt"
    for tool in ("pip", "useradd"):
        (tools / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> {calls}\n')
        (tools / tool).chmod(0o755)
    sandboxed = run.replace("/tmp/wheels", str(wheels)).replace("/usr/local/bin", str(bin_dir))
    env = dict(os.environ, PATH=os.pathsep.join([str(tools), str(Path(sys.executable).parent),
                                                 os.environ.get("PATH", "")]))
    done = subprocess.run(["sh", "-c", sandboxed], env=env, capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert calls.read_text().splitlines() == [
        f"pip install --no-cache-dir {wheels / WHEEL_NAME}[local,dask]",
        "useradd --create-home --uid 10001 ocr"]
    assert not wheels.exists()  # removed once installed
    for name, subcommand in (("dask-scheduler", "scheduler"), ("dask-worker", "worker")):
        shim = bin_dir / name
        assert shim.stat().st_mode & stat.S_IXOTH
        if shutil.which("dask", path=env["PATH"]) is not None:
            helped = subprocess.run([str(shim), "--help"], env=env, capture_output=True,
                                    text=True, timeout=120)
            assert helped.returncode == 0 and f"dask {subcommand}" in helped.stdout.lower(), (
                helped.stdout[-500:] + helped.stderr[-500:])

    # Two wheels in the build folder: which one? The build stops and says so.
    wheels.mkdir()
    for version in ("0.1.0", "0.2.0"):
        (wheels / f"batch_ocr-{version}-py3-none-any.whl").write_bytes(b"a wheel")
    twice = subprocess.run(["sh", "-c", sandboxed], env=env, capture_output=True, text=True,
                           timeout=30)
    assert twice.returncode == 1
    assert twice.stderr == "the build folder must hold exactly one batch_ocr wheel\n"
