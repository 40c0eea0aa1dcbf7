"""How bin/_runtime.py creates and fills the Odoo environment: with uv when it can be had, pip
otherwise.

uv is taken from $UV or the PATH; else it is installed once from the package index into a small
virtual environment of its own in the cache (<cache>/uv). When that fails (no index, no wheel for
this machine), or with LEAD_ALLOCATION_INSTALLER=pip, the environment is built with pip, as
before. Both install the same requirement files; uv resolves, downloads and unpacks in parallel
and keeps a cache of built wheels (${XDG_CACHE_HOME:-~/.cache}/uv), pip its own.
"""

import os
import shutil
import subprocess
from pathlib import Path

UV_REQUIREMENT = "uv>=0.4"


class Installer:
    """The commands of one installer: ``venv(python, target)`` and ``install(target, *args)``."""

    def __init__(self, uv=None):
        self.uv = uv
        self.name = "uv" if uv else "pip"

    def venv(self, python, target):
        if self.uv:
            # --seed: pip in the environment too, for tools that call `python -m pip`
            return [self.uv, "venv", "--quiet", "--seed", "--python", python, target]
        return [python, "-m", "venv", target]

    def install(self, target, *args):
        python = Path(target) / "bin" / "python"
        if self.uv:
            return [self.uv, "pip", "install", "--quiet", "--python", python, *args]
        return [python, "-m", "pip", "--disable-pip-version-check", "--quiet", "install", *args]

    def prepare(self, target):
        """Commands to run in a new environment before the requirements."""
        if self.uv:
            return []
        return [self.install(target, "--upgrade", "pip", "wheel", "setuptools")]


def bootstrap_uv(cache, python, say):
    """The path of a uv installed into ``cache``/uv (once), or None when it cannot be."""
    home = Path(cache) / "uv"
    if (home / "bin" / "uv").exists():
        return str(home / "bin" / "uv")
    partial = home.with_name(f"uv.partial-{os.getpid()}")
    pip = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # with the Python's own pip when it has one, else in a small virtual environment
    recipes = (
        [[python, *pip, "--target", partial, UV_REQUIREMENT]],
        [[python, "-m", "venv", partial], [partial / "bin" / "python", *pip, UV_REQUIREMENT]],
    )
    say(f"-- Installing uv into {home} (once; pip is the fallback)...")
    why = None
    for recipe in recipes:
        shutil.rmtree(partial, ignore_errors=True)
        try:
            for command in recipe:
                result = subprocess.run(command, capture_output=True, text=True, timeout=300)
                if result.returncode:
                    raise OSError(" ".join((result.stderr or result.stdout).split()[-12:]))
            if (partial / "bin" / "uv").exists():
                partial.rename(home)
                return str(home / "bin" / "uv")
        except (OSError, subprocess.SubprocessError) as error:
            why = error
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    say(f"   uv could not be installed ({why}): pip builds the environment")
    return None


def choose(cache, python, say):
    """The installer to build with: uv when it can be had, else pip."""
    if os.environ.get("LEAD_ALLOCATION_INSTALLER") == "pip":
        return Installer()
    found = os.environ.get("UV") or shutil.which("uv")
    if found and Path(found).is_file():
        return Installer(found)
    return Installer(bootstrap_uv(cache, python, say))
