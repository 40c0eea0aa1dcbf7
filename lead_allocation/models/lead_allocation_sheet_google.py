from datetime import UTC
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from odoo import api, models

from ..sheets import SheetClient, SheetError
from ..sheets.client import SETTINGS, client_options
from ..sheets.rows import keyed_rows, normalize_header, resolve_columns
from ..sheets.write_back import changed_cells, layout


class LeadAllocationSheetGoogle(models.AbstractModel):
    """The Google side of a source, for the sync and for Test connection: the client
    (read-only scope unless the source writes back), the tabs, the columns, and the
    write-back of each chunk's rows (found by their key in cells read just before)."""

    _name = "lead.allocation.sheet.google"
    _description = "Google Sheet Access"

    @api.model
    def _open_tabs(self, sheet, interactive=False):
        """The :class:`~..sheets.client.Worksheet` of each tab the source reads."""
        # sudo: the key is readable by administrators only; it is used, never shown
        credentials = sheet.sudo().credentials_json
        if not credentials:
            raise SheetError(self.env._("No service-account key: paste one first."))
        # sudo: reading technical settings
        param = self.env["ir.config_parameter"].sudo().get_param
        settings = {name: param(f"lead_allocation.sheets_{name}") for name in SETTINGS}
        options = client_options(settings, interactive, write=sheet.write_back)
        client = SheetClient(credentials, **options)
        return client.open_tabs(sheet.spreadsheet, sheet._tab_names(), sheet.all_worksheets)

    @api.model
    def _resolve_columns(self, sheet, headers):
        """``([(column index, field)], [missing headers])`` for the mapped columns.
        Without any mapping yet, the suggestions are saved first."""
        if not sheet.column_ids:
            self.env["lead.allocation.sheet.column"]._add_suggested(sheet, headers)
        mapping = [(c.header, c.field_name) for c in sheet.column_ids if c.field_name]
        return resolve_columns(headers, mapping)

    @api.model
    def _prepare_write_back(self, tab, headers, run):
        """The write-back columns of ``tab`` (``{column: index}``), the missing ones
        added to its header row; a failure is kept in ``run`` (the import goes on)."""
        sheet = run["sheet"]
        names = sheet._write_back_names()
        positions, added = layout(headers, names)
        read = {normalize_header(c.header) for c in sheet.column_ids if c.field_name}
        if clash := [name for name in names.values() if normalize_header(name) in read]:
            run["write_error"] = self.env._(
                "the column “%(name)s” is read as a lead field: give the write-back "
                "column another name on the source.",
                name=clash[0],
            )
        if added and not run.get("write_error"):
            try:
                tab.widen(max(positions.values()) + 1)
                tab.write_cells([(sheet.header_row, index + 1, [name]) for index, name in added])
            except SheetError as error:
                run["write_error"] = error.message
        return positions

    @api.model
    def _write_back(self, tab, positions, prefix, chunk, rows, run):
        """Bring the write-back cells of rows ``rows`` (first, last) of ``tab`` up to
        date: one range read, then one values batch update of the rows whose cells
        differ; ``chunk`` (the cells read for the import) spares both when nothing
        differs. Rows moved out of the range meanwhile wait for the next sync, as do
        the rows of a failed write: their number is added to ``run["waiting"]``.
        A later row of a key met earlier in the range is a duplicate."""
        columns = run["columns"]
        wanted = self._wanted(run, [key for _n, key, _d in keyed_rows(chunk, columns, prefix)])
        todo = _row_count(changed_cells(chunk, columns, positions, wanted, {}, prefix))
        if todo and not run.get("write_error"):
            try:
                chunk = list(enumerate(tab.rows(*rows), rows[0]))
                keys = [key for _n, key, _d in keyed_rows(chunk, columns, prefix)]
                wanted = self._wanted(run, keys)
                changes = changed_cells(chunk, columns, positions, wanted, {}, prefix)
                tab.write_cells(changes)
                todo = max(todo - _row_count(changes), 0)
            except SheetError as error:  # no insisting: the next sync writes them
                run["write_error"] = error.message
        run["waiting"] += todo

    @api.model
    def _wanted(self, run, keys):
        """``wanted(key, row, first_row)`` of :func:`~..sheets.write_back.changed_cells`:
        the four cells of a row, from its lines in the log."""
        lines = self.env["lead.allocation.sheet.row"]._write_back_lines(run["sheet"].id, keys)
        base = run["sheet"].get_base_url()
        texts = run.setdefault("texts", {
            "imported": self.env._("Imported"),
            "duplicate": self.env._("Duplicate of row %s"),
            "error": self.env._("Error: %s"),
        })  # fmt: skip

        def wanted(key, number, first):
            if key not in lines:
                return None
            state, lead_id, user, message, date = lines[key]
            link = f"{base}/odoo/crm/{lead_id}" if lead_id else ""
            if number != first:
                return {"user": "", "lead": link, "status": texts["duplicate"] % first,
                        "date": ""}  # fmt: skip
            if state == "error":
                return {"user": "", "lead": "", "status": texts["error"] % message, "date": ""}
            return {"user": user or "", "lead": link, "status": texts["imported"],
                    "date": _local(date, run["timezone"])}  # fmt: skip

        return wanted

    @api.model
    def _check_write_access(self, sheet, tabs):
        """Test connection with write-back on: write the write-back headers of each tab
        (the missing ones added, the others as they are); plain words on refusal."""
        try:
            for tab in tabs:
                headers = tab.headers(sheet.header_row)
                positions, _added = layout(headers, sheet._write_back_names())
                names = sheet._write_back_names()
                tab.widen(max(positions.values()) + 1)
                tab.write_cells([
                    (sheet.header_row, index + 1,
                     [headers[index] if index < len(headers) else names[column]])
                    for column, index in positions.items()
                ])  # fmt: skip
        except SheetError as error:
            if error.status != 403:
                raise
            raise SheetError(
                self.env._(
                    "The service account can read the sheet but not write to it. Share "
                    "the sheet with %(email)s as Editor (Share button of the sheet), or "
                    "turn off “Write back to the sheet”.",
                    email=sheet.service_account_email,
                ),
                status=403,
            ) from None


def _row_count(changes):
    return len({number for number, _column, _values in changes})


def _local(date, timezone):
    """``date`` (naive UTC) as the sheet's local time, as text."""
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return date.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")
