"""Fast tests of the add-on's pure units (allocation/, intake/, sheets/): no Odoo needed.

They are imported as top-level packages from the add-on folder, so no Odoo import runs.
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lead_allocation"))
