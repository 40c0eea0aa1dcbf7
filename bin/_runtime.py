"""Build (once) and find the runtime of bin/run, bin/test and bench/run.

    _runtime.py odoo        print the Python of an Odoo 19 environment, building it when needed
    _runtime.py pg-start    make sure a PostgreSQL server answers; print the PG* variables to use
    _runtime.py pg-stop DIR stop the private cluster in DIR (started by pg-start)

Odoo 19 is taken from $ODOO_PYTHON or `python3` when one of them imports it. Otherwise a
virtual environment with Python 3.12 is built in the per-user cache
(${XDG_CACHE_HOME:-~/.cache}/lead_allocation) from, in order: $ODOO_SOURCE (a source folder, a
.tar.xz/.tar.gz/.zip archive or a URL), the Odoo 19.0 source tarball of ../shared/odoo/ beside
the checkout, or Odoo's official 19.0 nightly source. The environment is named after a digest of
its source and of the requirement files, so a change builds a new one and an unchanged one is
reused. It is built aside and moved into place only when complete: an interrupted build is
never used. It is built with uv when uv can be had, with pip otherwise (bin/_installer.py).

Progress goes to stderr; the answer (a path, or shell assignments) to stdout.
"""

import getpass
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _installer  # beside this file

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lead_allocation"
OFFICIAL_SOURCE = "https://nightly.odoo.com/19.0/nightly/src/odoo_19.0.latest.tar.gz"
# Bumped when the way an environment is built changes (its digest then changes too).
RECIPE = "3"
PYTHON_WANTED = (3, 12)
SYSTEM_PYTHONS = ["/usr/local/bin/python3.12", "/usr/bin/python3.12"]
CHECK_ODOO = "import odoo.release as r, sys; sys.exit(r.version_info[0] != 19)"


class Failure(Exception):
    """A step failed: the message says what to do."""


def say(message):
    print(message, file=sys.stderr, flush=True)


class step:
    """Print what a step does, then how long it took (or that it failed)."""

    def __init__(self, what):
        self.what = what

    def __enter__(self):
        say(f"-- {self.what}...")
        self.started = time.monotonic()

    def __exit__(self, kind, value, traceback):
        elapsed = time.monotonic() - self.started
        say(f"   {'done' if kind is None else 'FAILED'} in {elapsed:.0f} s")


def run(*command, **kwargs):
    result = subprocess.run(command, check=False, **kwargs)
    if result.returncode:
        raise Failure(
            f"this command failed (exit {result.returncode}): {' '.join(map(str, command))}"
        )


# -- Odoo ------------------------------------------------------------------------------------------


def imports_odoo(python):
    try:
        return (
            subprocess.run([python, "-c", CHECK_ODOO], capture_output=True, timeout=60).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def find_python312():
    """Python 3.12: $PYTHON312, `python3.12` on the PATH, or one that pyenv installed."""
    candidates = [os.environ.get("PYTHON312"), shutil.which("python3.12")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates += sorted(map(str, pyenv_root.glob("versions/3.12*/bin/python3.12")), reverse=True)
    candidates += SYSTEM_PYTHONS
    for path in filter(None, candidates):
        try:
            version = subprocess.run(
                [path, "-c", "import sys, venv; print(*sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.split()
        except (OSError, subprocess.TimeoutExpired):
            continue
        if tuple(map(int, version)) == PYTHON_WANTED:
            return path
    raise Failure(
        "Python 3.12 is needed to build the Odoo 19 environment, and none was found\n"
        "  (python3.12 on the PATH, $PYTHON312, or a pyenv 3.12).\n"
        "  Debian 13 / Ubuntu 24.04: apt-get install python3.12 python3.12-venv\n"
        "  elsewhere: pyenv install 3.12, then run this again (or set PYTHON312 to its path);\n"
        "  or set ODOO_PYTHON to a Python that already imports Odoo 19."
    )


def choose_source():
    """(kind, location, identity) of the Odoo source: identity names it in the digest."""
    given = os.environ.get("ODOO_SOURCE")
    if given:
        if re.match(r"^https?://", given):
            return "url", given, given
        path = Path(given).expanduser().resolve()
        if path.is_dir():
            release = path / "odoo" / "release.py"
            if not release.is_file():
                raise Failure(
                    f"ODOO_SOURCE={given}: no odoo/release.py in it, so not an Odoo source tree"
                )
            stamp = hashlib.sha256(
                release.read_bytes() + (path / "requirements.txt").read_bytes()
            ).hexdigest()
            return "dir", path, f"dir:{path}:{stamp}"
        if path.is_file():
            return "archive", path, f"archive:{file_digest(path)}"
        raise Failure(f"ODOO_SOURCE={given}: no such file or folder")
    shared = sorted((ROOT.parent / "shared" / "odoo").glob("odoo-19.0-*.tar.xz"))
    if shared:
        return "archive", shared[-1], f"archive:{file_digest(shared[-1])}"
    return "url", OFFICIAL_SOURCE, OFFICIAL_SOURCE


def file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def environment_key(identity):
    digest = hashlib.sha256(f"{RECIPE}\n{identity}\n".encode())
    for name in ("requirements-dev.txt", "setup.py"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()[:16]


def download(kind, location, workdir):
    """(kind, location) of the source, an archive downloaded into workdir when it is a URL."""
    if kind == "url":
        archive = workdir / (
            "odoo-source.zip" if location.endswith(".zip") else "odoo-source.tar.gz"
        )
        with step(f"Downloading the Odoo source from {location}"):
            try:
                with (
                    urllib.request.urlopen(location, timeout=60) as answer,
                    open(archive, "wb") as out,
                ):
                    shutil.copyfileobj(answer, out)
            except OSError as error:
                raise Failure(
                    f"could not download {location}: {error}\n"
                    "  set ODOO_SOURCE to an Odoo 19.0 source folder or archive you have"
                ) from error
        return "archive", archive
    return kind, location


def read_requirements(kind, location):
    """The text of the source's requirements.txt, read before (and while) it is unpacked."""
    if kind == "dir":
        return (location / "requirements.txt").read_text()
    wanted = re.compile(r"^([^/]+/)?requirements\.txt$")
    if zipfile.is_zipfile(location):
        with zipfile.ZipFile(location) as archive_file:
            for name in archive_file.namelist():
                if wanted.match(name):
                    return archive_file.read(name).decode()
    else:
        with tarfile.open(location) as archive_file:
            for member in archive_file:  # streamed: it comes near the top of Odoo's archives
                if member.isfile() and wanted.match(member.name):
                    return archive_file.extractfile(member).read().decode()
    raise Failure(f"{location} holds no Odoo source tree (no requirements.txt at its top)")


def unpack(kind, location, workdir):
    """The Odoo source folder (the one holding setup.py), unpacked into workdir when needed."""
    if kind == "dir":
        return location
    target = workdir / "src"
    with step(f"Unpacking {location.name}"):
        if zipfile.is_zipfile(location):
            with zipfile.ZipFile(location) as archive_file:
                archive_file.extractall(target)
        else:
            with tarfile.open(location) as archive_file:
                if hasattr(tarfile, "data_filter"):
                    archive_file.extractall(target, filter="data")
                else:  # Python < 3.11.4
                    archive_file.extractall(target)
    found = sorted(p.parent for p in target.glob("*/setup.py")) or sorted(target.glob("setup.py"))
    if not found:
        raise Failure(f"{location} holds no Odoo source tree (no setup.py at its top)")
    return found[0] if found[0].name != "setup.py" else target


def build_environment(final):
    python = find_python312()
    kind, location, _identity = choose_source()
    say(f"Building the Odoo 19 environment {final} (once; later runs reuse it).")
    CACHE.mkdir(parents=True, exist_ok=True)
    # Built aside, moved into place when complete: an interrupted build leaves only a .partial
    # folder, removed at the next build.
    for stale in CACHE.glob("env-*.partial-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or not Path(f"/proc/{pid}").exists():
            shutil.rmtree(stale, ignore_errors=True)
    partial = final.with_name(f"{final.name}.partial-{os.getpid()}")
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="lead_allocation-odoo-") as work:
            work = Path(work)
            kind, location = download(kind, location, work)
            requirements = read_requirements(kind, location)
            # unpacked while the requirements install
            with ThreadPoolExecutor(1) as pool:
                source = pool.submit(unpack, kind, location, work)
                fill(partial, python, requirements, source, work)
        relocate(partial, final)
        try:
            partial.rename(final)
        except OSError:  # built meanwhile by another run: keep that one
            shutil.rmtree(partial, ignore_errors=True)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    say(f"Odoo 19 environment ready in {time.monotonic() - started:.0f} s.")
    if not imports_odoo(final / "bin" / "python"):
        raise Failure(f"the environment {final} was built but does not import Odoo 19")


def fill(partial, python, requirements_text, unpacked, work):
    """Create the environment in ``partial`` and install Odoo and the requirements into it.

    Odoo is installed in editable mode from its source moved into the environment (odoo-src/):
    building and unpacking a wheel of its 40,000 files took most of the time of a warm build."""
    installer = _installer.choose(CACHE, python, say)
    with step(
        f"Creating a Python {'.'.join(map(str, PYTHON_WANTED))} virtual environment"
        f" (installer: {installer.name})"
    ):
        run(*installer.venv(python, partial))
    requirements = work / "odoo-requirements.txt"
    # python-ldap serves only the auth_ldap add-on and needs LDAP headers to build.
    requirements.write_text(
        "".join(
            line
            for line in requirements_text.splitlines(keepends=True)
            if not line.lower().startswith("python-ldap")
        )
    )
    with step("Installing Odoo's pinned requirements (the longest step on a cold cache)"):
        for command in installer.prepare(partial):
            run(*command)
        run(*installer.install(partial, "-r", requirements))
    source = unpacked.result()
    with step("Installing Odoo 19.0 Community"):
        kept = partial / "odoo-src"
        if source.is_relative_to(work):
            shutil.move(source, kept)
        else:  # a source folder of the user's: the environment keeps a copy of its own
            shutil.copytree(source, kept, symlinks=True)
        # compat: a plain path in a .pth file; setuptools' default import hook would show in
        # odoo.addons.__path__, and Odoo warns of an addons path that is not a directory
        run(
            *installer.install(
                partial,
                "--no-deps",
                "--config-settings",
                "editable_mode=compat",
                "--editable",
                kept,
            )
        )
    with step("Installing the add-on's requirements and the test tools"):
        run(
            *installer.install(
                partial, "gspread>=6", "google-auth>=2", "-r", ROOT / "requirements-dev.txt"
            )
        )


def relocate(partial, final):
    """Point the environment's scripts (their #! lines) and the path of its editable Odoo at the
    folder it is moved to."""
    old, new = str(partial).encode(), str(final).encode()
    site = list(partial.glob("lib/python*/site-packages"))
    editable = [p for folder in site for p in folder.glob("*.pth")]
    editable += [p for folder in site for p in folder.glob("__editable__*")]
    editable += [p for folder in site for p in folder.glob("odoo-*.dist-info/direct_url.json")]
    for script in [*(partial / "bin").iterdir(), *editable]:
        if script.is_file() and not script.is_symlink():
            content = script.read_bytes()
            if old in content:
                script.write_bytes(content.replace(old, new))
    config = partial / "pyvenv.cfg"
    config.write_bytes(config.read_bytes().replace(old, new))


def odoo_python():
    for candidate in (os.environ.get("ODOO_PYTHON"), "python3"):
        path = candidate and shutil.which(candidate)
        if path and imports_odoo(path):
            return path
    if os.environ.get("ODOO_PYTHON"):
        raise Failure(f"ODOO_PYTHON={os.environ['ODOO_PYTHON']} does not import Odoo 19")
    _kind, _location, identity = choose_source()
    final = CACHE / f"env-{environment_key(identity)}"
    if not (final / "bin" / "python").exists():
        build_environment(final)
    return str(final / "bin" / "python")


# -- PostgreSQL ------------------------------------------------------------------------------------


def reachable(host, port, user):
    try:
        import psycopg2

        psycopg2.connect(
            host=host, port=port, user=user, dbname="postgres", connect_timeout=5
        ).close()
        return True, ""
    except psycopg2.Error as error:
        return False, str(error).strip().splitlines()[0]


def server_binaries():
    folders = [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for folder in folders + versions[::-1]:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_cluster_owner(command):
    """PostgreSQL's server refuses to run as root: there it runs as the `postgres` system user."""
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser") is None:
        raise Failure("running as root, a private PostgreSQL cluster needs `runuser` (util-linux)")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError as error:
        raise Failure(
            "running as root, a private PostgreSQL cluster needs the `postgres` system user"
        ) from error
    return ["runuser", "-u", "postgres", "--", *map(str, command)]


def pg_start():
    host = os.environ.get("PGHOST") or "127.0.0.1"
    port = os.environ.get("PGPORT") or "5432"
    user = os.environ.get("PGUSER") or getpass.getuser()
    if user == "postgres":
        raise Failure(
            "Odoo refuses to connect as 'postgres': set PGUSER to another role (LOGIN CREATEDB)."
        )
    ok, why = reachable(host, port, user)
    if ok:
        print(f"PGHOST={host} PGPORT={port} PGUSER={user} LEAD_ALLOCATION_PG_CLUSTER=")
        return
    binaries = server_binaries()
    if binaries is None:
        raise Failure(
            f"PostgreSQL is not reachable at {host}:{port} as {user} ({why}),\n"
            "  and no PostgreSQL server is installed to start a private one.\n"
            "  Install it (Debian/Ubuntu: apt-get install postgresql), or set PGHOST, PGPORT,\n"
            "  PGUSER, PGPASSWORD to a server you have."
        )
    version = subprocess.run(
        [binaries / "initdb", "--version"], capture_output=True, text=True
    ).stdout
    major = re.search(r"(\d+)", version).group(1)
    # PostgreSQL never runs as root: for root the cluster belongs to the `postgres` system user,
    # which cannot enter root's home, so it lives in /var/tmp instead of the cache.
    home = CACHE
    if os.geteuid() == 0:
        home = Path("/var/tmp/lead_allocation") / hashlib.sha256(bytes(CACHE)).hexdigest()[:8]
    cluster = home / f"postgresql-{major}"
    data, sockets = cluster / "data", cluster / "run"
    say(
        f"PostgreSQL is not reachable at {host}:{port} ({why}):"
        f" starting a private cluster in {cluster}."
    )
    if not (data / "PG_VERSION").exists():
        with step(f"Creating the cluster with {binaries / 'initdb'}"):
            shutil.rmtree(cluster, ignore_errors=True)
            sockets.mkdir(parents=True)
            cluster.chmod(0o700)
            if os.geteuid() == 0:
                shutil.chown(cluster, "postgres")
                shutil.chown(sockets, "postgres")
            run(
                *as_cluster_owner(
                    [
                        binaries / "initdb",
                        "-D",
                        data,
                        "-U",
                        user,
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--no-instructions",
                    ]
                ),
                stdout=subprocess.DEVNULL,
            )
    pid_file = data / "postmaster.pid"
    if pid_file.exists():
        lines = pid_file.read_text().splitlines()
        if (
            len(lines) > 3
            and Path(f"/proc/{lines[0]}").exists()
            and reachable("127.0.0.1", lines[3], user)[0]
        ):
            say(
                f"The private cluster already runs on 127.0.0.1:{lines[3]}"
                " (it is left to whoever started it)."
            )
            print(f"PGHOST=127.0.0.1 PGPORT={lines[3]} PGUSER={user} LEAD_ALLOCATION_PG_CLUSTER=")
            return
    port = str(free_port())
    with step(f"Starting it on 127.0.0.1:{port}"):
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sockets}"
        )
        run(
            *as_cluster_owner(
                [
                    binaries / "pg_ctl",
                    "-D",
                    data,
                    "-l",
                    cluster / "server.log",
                    "-o",
                    options,
                    "-w",
                    "start",
                ]
            ),
            stdout=subprocess.DEVNULL,
        )
    print(f"PGHOST=127.0.0.1 PGPORT={port} PGUSER={user} LEAD_ALLOCATION_PG_CLUSTER={cluster}")


def pg_stop(cluster):
    cluster = Path(cluster)
    binaries = server_binaries()
    if binaries and (cluster / "data" / "postmaster.pid").exists():
        with step(f"Stopping the private PostgreSQL cluster in {cluster}"):
            run(
                *as_cluster_owner(
                    [binaries / "pg_ctl", "-D", cluster / "data", "-m", "fast", "-w", "stop"]
                ),
                stdout=subprocess.DEVNULL,
            )


def main(argv):
    try:
        if argv[:1] == ["odoo"]:
            print(odoo_python())
        elif argv[:1] == ["pg-start"]:
            pg_start()
        elif argv[:1] == ["pg-stop"] and len(argv) == 2:
            pg_stop(argv[1])
        else:
            raise Failure(__doc__)
    except Failure as failure:
        say(f"error: {failure}")
        return 2
    except KeyboardInterrupt:
        say("interrupted: nothing half-built is kept")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
