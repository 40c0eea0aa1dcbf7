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
    for name in ("ODOO_SOURCE", "ODOO_PYTHON", "PYTHON312", "UV", "LEAD_ALLOCATION_INSTALLER"):
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


def fake_uv(folder, log):
    """An executable `uv` that logs its arguments and creates virtual environments for real."""
    folder.mkdir(parents=True, exist_ok=True)
    uv = folder / "uv"
    uv.write_text(
        f"#!{sys.executable}\n"
        "import subprocess, sys\n"
        f"open({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "if sys.argv[1] == 'venv':\n"
        "    python = sys.argv[sys.argv.index('--python') + 1]\n"
        "    subprocess.run([python, '-m', 'venv', '--without-pip', sys.argv[-1]], check=True)\n"
    )
    uv.chmod(0o755)
    return uv


def odoo_tree(folder):
    (folder / "odoo").mkdir(parents=True)
    (folder / "odoo" / "release.py").write_text("version_info = (19, 0)\n")
    (folder / "requirements.txt").write_text("python-ldap==3.4\nlxml\n")
    return folder


def test_uv_builds_when_it_is_on_the_path(clean_env, monkeypatch):
    """uv creates the environment and installs Odoo's requirements (without python-ldap),
    Odoo itself (editable, from its copy in the environment) and the test tools."""
    log = clean_env / "uv.log"
    monkeypatch.setenv("PATH", f"{fake_uv(clean_env / 'tools', log).parent}:{os.environ['PATH']}")
    monkeypatch.setenv("ODOO_SOURCE", str(odoo_tree(clean_env / "odoo-src")))
    final = runtime.CACHE / "env-test"
    with pytest.raises(runtime.Failure, match="does not import Odoo 19"):
        runtime.build_environment(final)  # the fake uv installs nothing
    venv, *installs = log.read_text().splitlines()
    assert venv.startswith("venv ") and "--seed" in venv
    assert [line.split()[:2] for line in installs] == [["pip", "install"]] * 3
    assert all(f"--python {final}.partial-" in line for line in installs)
    odoo_requirements = Path(installs[0].split(" -r ")[1]).name
    assert odoo_requirements == "odoo-requirements.txt"
    # a plain path in a .pth (setuptools' import hook would show in odoo.addons.__path__)
    assert (
        f"--no-deps --config-settings editable_mode=compat --editable {final}.partial-"
        in (installs[1])
    )
    assert installs[1].endswith("/odoo-src")
    assert "requirements-dev.txt" in installs[2]
    assert (final / "odoo-src" / "odoo" / "release.py").is_file(), "Odoo's copy is kept"
    assert (final / "pyvenv.cfg").read_text().count(str(final)) >= 1


def test_pip_when_uv_cannot_be_installed(clean_env, monkeypatch):
    """No uv on the PATH and its installation fails: pip builds, and the build says why."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    calls, messages = [], []

    def failing(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 1, "", "ERROR: no matching distribution")

    monkeypatch.setattr(runtime._installer.subprocess, "run", failing)
    installer = runtime._installer.choose(runtime.CACHE, sys.executable, messages.append)
    assert installer.name == "pip"
    assert ["--target" in c for c in calls] == [True, False], "pip --target, then a venv"
    assert calls[1][1:3] == ["-m", "venv"]
    assert "no matching distribution" in messages[-1] and "pip builds" in messages[-1]
    assert not list(runtime.CACHE.glob("uv*")), "nothing half-installed is left"
    python = Path("/env/bin/python")
    assert installer.install("/env", "-r", "r.txt")[:3] == [python, "-m", "pip"]
    assert installer.prepare("/env") == [
        installer.install("/env", "--upgrade", "pip", "wheel", "setuptools")
    ]


def test_uv_is_installed_once_into_the_cache(clean_env, monkeypatch):
    """A uv installed by an earlier build is reused; LEAD_ALLOCATION_INSTALLER=pip forces pip."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    kept = fake_uv(runtime.CACHE / "uv" / "bin", clean_env / "unused.log")
    monkeypatch.setattr(runtime._installer.subprocess, "run", None)  # nothing is run
    installer = runtime._installer.choose(runtime.CACHE, sys.executable, print)
    assert (installer.name, installer.uv) == ("uv", str(kept))
    monkeypatch.setenv("LEAD_ALLOCATION_INSTALLER", "pip")
    assert runtime._installer.choose(runtime.CACHE, sys.executable, print).name == "pip"


@pytest.mark.parametrize("installer", ["pip", "uv"])
@pytest.mark.parametrize("fault", [runtime.Failure("pip failed"), KeyboardInterrupt()])
def test_interrupted_build_leaves_nothing_to_use(clean_env, monkeypatch, fault, installer):
    """The virtual environment is really created, then pip (or `uv pip`) fails (or Ctrl-C):
    the half-built environment is removed and the final one never appears."""
    monkeypatch.setenv("ODOO_SOURCE", str(odoo_tree(clean_env / "odoo-src")))
    if installer == "uv":
        monkeypatch.setenv("UV", str(fake_uv(clean_env / "tools", clean_env / "uv.log")))
    else:
        monkeypatch.setenv("LEAD_ALLOCATION_INSTALLER", "pip")
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
