"""The bootstrap of the scripts (bin/_runtime.py): where Odoo comes from, when an environment is
rebuilt, that a failed build is never used, and the private PostgreSQL cluster."""

import importlib.util
import io
import os
import shutil
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

BIN = Path(__file__).resolve().parents[1] / "bin"
spec = importlib.util.spec_from_file_location("lead_allocation_runtime", BIN / "_runtime.py")
runtime = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runtime)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("ODOO_SOURCE", "ODOO_PYTHON", "PYTHON312"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(runtime, "CACHE", tmp_path / "cache")
    return tmp_path


def make_archive(path, files):
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            data = content.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_source_order(clean_env, monkeypatch):
    """$ODOO_SOURCE first (folder, archive or URL), then ../shared/odoo, then Odoo's download."""
    root = clean_env / "project"
    root.mkdir()
    monkeypatch.setattr(runtime, "ROOT", root)
    assert runtime.choose_source() == ("url", runtime.OFFICIAL_SOURCE, runtime.OFFICIAL_SOURCE)

    shared = clean_env / "shared" / "odoo"
    shared.mkdir(parents=True)
    tarball = make_archive(shared / "odoo-19.0-20250101.tar.xz", {"odoo-19.0/setup.py": ""})
    kind, location, identity = runtime.choose_source()
    assert (kind, location) == ("archive", tarball)
    assert identity == f"archive:{runtime.file_digest(tarball)}"

    monkeypatch.setenv("ODOO_SOURCE", "https://example.com/odoo_19.0.latest.tar.gz")
    assert runtime.choose_source()[:2] == ("url", "https://example.com/odoo_19.0.latest.tar.gz")

    tree = clean_env / "odoo-src"
    (tree / "odoo").mkdir(parents=True)
    (tree / "odoo" / "release.py").write_text("version_info = (19, 0)\n")
    (tree / "requirements.txt").write_text("")
    monkeypatch.setenv("ODOO_SOURCE", str(tree))
    assert runtime.choose_source()[:2] == ("dir", tree)

    monkeypatch.setenv("ODOO_SOURCE", str(clean_env / "missing"))
    with pytest.raises(runtime.Failure, match="no such file or folder"):
        runtime.choose_source()


def test_environment_is_keyed_by_source_and_requirements(clean_env, monkeypatch):
    root = clean_env / "project"
    root.mkdir()
    (root / "setup.py").write_text("install_requires=['gspread>=6']\n")
    (root / "requirements-dev.txt").write_text("pytest>=8\n")
    monkeypatch.setattr(runtime, "ROOT", root)
    key = runtime.environment_key("archive:abc")
    assert runtime.environment_key("archive:abc") == key, "an unchanged setup is reused"
    assert runtime.environment_key("archive:abd") != key, "another source builds anew"
    (root / "requirements-dev.txt").write_text("pytest>=8\nhypothesis\n")
    assert runtime.environment_key("archive:abc") != key, "changed requirements build anew"


def test_not_an_odoo_source_is_refused(clean_env, monkeypatch):
    archive = make_archive(clean_env / "broken.tar.gz", {"not-odoo/README": "nothing here"})
    monkeypatch.setenv("ODOO_SOURCE", str(archive))
    with pytest.raises(runtime.Failure, match="no Odoo source tree"):
        runtime.build_environment(runtime.CACHE / "env-test")


@pytest.mark.parametrize("fault", [runtime.Failure("pip failed"), KeyboardInterrupt()])
def test_interrupted_build_leaves_nothing_to_use(clean_env, monkeypatch, fault):
    """The virtual environment is really created, then pip fails (or Ctrl-C): the
    half-built environment is removed and the final one never appears."""
    tree = clean_env / "odoo-src"
    (tree / "odoo").mkdir(parents=True)
    (tree / "odoo" / "release.py").write_text("version_info = (19, 0)\n")
    (tree / "requirements.txt").write_text("")
    monkeypatch.setenv("ODOO_SOURCE", str(tree))
    real_run, partials = runtime.run, []

    def run(*command, **kwargs):
        if "pip" in map(str, command):
            partials.extend(
                path
                for path in runtime.CACHE.glob("env-test.partial-*/bin/python")
                if path.exists()
            )
            raise fault
        return real_run(*command, **kwargs)

    monkeypatch.setattr(runtime, "run", run)
    final = runtime.CACHE / "env-test"
    with pytest.raises(type(fault)):
        runtime.build_environment(final)
    assert partials, "pip ran in a real, half-built virtual environment"
    assert not final.exists()
    assert not list(runtime.CACHE.glob("env-*")), "no partial environment is left behind"


def test_missing_python_312_says_how_to_get_it(clean_env, monkeypatch):
    monkeypatch.setenv("PATH", str(clean_env))
    monkeypatch.setenv("PYENV_ROOT", str(clean_env / "no-pyenv"))
    monkeypatch.setattr(runtime, "SYSTEM_PYTHONS", [])
    with pytest.raises(runtime.Failure, match=r"apt-get install python3\.12 python3\.12-venv"):
        runtime.find_python312()


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(
    runtime.server_binaries() is None, reason="the PostgreSQL server binaries are not installed"
)
def test_private_cluster_when_postgresql_is_unreachable(tmp_path):
    """With PGPORT on a closed port, pg-start starts a private cluster; pg-stop stops it."""
    env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(closed_port()))
    env.pop("PGUSER", None)
    env["XDG_CACHE_HOME"] = str(tmp_path)
    command = [sys.executable, str(BIN / "_runtime.py")]
    started = subprocess.run([*command, "pg-start"], env=env, capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    assert "starting a private cluster" in started.stderr
    values = dict(item.split("=", 1) for item in started.stdout.split())
    cluster = values["LEAD_ALLOCATION_PG_CLUSTER"]
    try:
        assert values["PGPORT"] != env["PGPORT"]
        with socket.create_connection(("127.0.0.1", int(values["PGPORT"])), timeout=5):
            pass
    finally:
        stopped = subprocess.run([*command, "pg-stop", cluster], env=env, capture_output=True)
    assert stopped.returncode == 0, stopped.stderr
    assert not (Path(cluster) / "data" / "postmaster.pid").exists(), "no server left running"
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", int(values["PGPORT"]))):
        pass
    shutil.rmtree(Path(cluster).parent, ignore_errors=True)
