"""Pure allocation logic: no Odoo import here (see rotation.py)."""

from .rotation import Rotation, signature
