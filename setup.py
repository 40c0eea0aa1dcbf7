"""Packaging: ``pip install .`` installs the add-on as ``odoo.addons.lead_allocation``.

Odoo 19.0 itself is a prerequisite, not a requirement: no package index serves it.
"""

import ast
import pathlib

from setuptools import setup

HERE = pathlib.Path(__file__).resolve().parent
ADDON = HERE / "lead_allocation"
MANIFEST = ast.literal_eval((ADDON / "__manifest__.py").read_text())
PACKAGE = "odoo.addons.lead_allocation"


def _addon_files():
    """Python packages and data files (XML, CSV, static, OpenAPI...) of the add-on."""
    packages, data = [PACKAGE], []
    for path in sorted(ADDON.rglob("*")):
        relative = path.relative_to(ADDON)
        if "__pycache__" in relative.parts or path.suffix in {".pyc", ".pyo"}:
            continue
        if path.is_dir() and (path / "__init__.py").exists():
            packages.append(".".join((PACKAGE, *relative.parts)))
        elif path.is_file() and (
            path.suffix != ".py" or path.name == "__manifest__.py" or "migrations" in relative.parts
        ):
            data.append(str(relative))
    return packages, data


packages, data = _addon_files()
setup(
    name="odoo-addon-lead-allocation",
    version=MANIFEST["version"],
    description=MANIFEST["summary"],
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    author=MANIFEST["author"],
    url=MANIFEST["website"],
    license=MANIFEST["license"],
    python_requires=">=3.10",
    install_requires=["gspread>=6", "google-auth>=2"],
    package_dir={PACKAGE: "lead_allocation"},
    packages=packages,
    package_data={PACKAGE: data},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Odoo",
        "Framework :: Odoo :: 19.0",
        "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)",
    ],
)
