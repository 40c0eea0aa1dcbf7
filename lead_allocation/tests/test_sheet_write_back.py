from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from .fake_google import WRITE_SCOPE
from .sheet_common import HEADERS, SHEET_KEY, SheetCase, lead_row

WRITE_BACK = ["Salesperson", "Odoo Lead", "Status", "Imported On"]
COLS = slice(len(HEADERS), len(HEADERS) + 4)  # where the write-back columns are added
SYNC_LOGGER = "odoo.addons.lead_allocation.models.lead_allocation_sheet_sync"


@tagged("post_install", "-at_install")
class TestSheetWriteBack(SheetCase):
    """The sheet shows who got each lead: write-back columns kept up to date by the sync,
    rows found by their key just before the write."""

    def setUp(self):
        super().setUp()
        self.source.write_back = True
        self.google.requests.clear()
        self.google.writes.clear()
        self.google.tokens.clear()  # each sync asks for its own token

    def cells(self, name, rows=None):
        """The write-back cells of the row whose first cell is ``name``."""
        row = next(row for row in (rows or self.rows) if row and row[0] == name)
        return (row + [""] * 12)[COLS]

    def lead(self, name):
        return self.leads().filtered(lambda lead: lead.name == name)

    def expected(self, name):
        lead = self.lead(name)
        link = f"{self.source.get_base_url()}/odoo/crm/{lead.id}"
        return [lead.user_id.name, link, "Imported"]

    def test_first_import_writes_back(self):
        self.assertEqual(self.sync()["imported"], 5)
        self.assertEqual(self.rows[0], HEADERS + WRITE_BACK)  # after the last header column
        for i in range(1, 6):
            name = f"Lead {i}"
            with self.subTest(name):
                cells = self.cells(name)
                self.assertEqual(cells[:3], self.expected(name))
                self.assertRegex(cells[3], r"^\d{4}-\d\d-\d\d \d\d:\d\d$")
        # the header, then one values batch update for the chunk; nothing more to write
        self.assertEqual(self.google.count("write"), 2)
        self.assertEqual((self.source.last_sync_state, self.source.write_back_waiting), ("ok", 0))
        self.sync()
        self.assertEqual(self.google.count("write"), 2)

    def test_rows_inserted_and_sorted_before_the_write(self):
        """While the leads are created, two rows are inserted at the top and the sheet is
        sorted the other way: each row is written where its key is now."""
        Sync = type(self.Sync)
        create_leads = Sync._create_leads

        def edit_then_create(sync, *args):
            self.rows[1:] = sorted(self.rows[1:], key=lambda row: row[0], reverse=True)
            self.rows[1:1] = [lead_row(8), lead_row(9)]
            return create_leads(sync, *args)

        with patch.object(Sync, "_create_leads", edit_then_create):
            self.assertEqual(self.sync()["imported"], 5)
        names = [row[0] for row in self.rows[1:]]
        self.assertEqual(names, ["Lead 8", "Lead 9"] + [f"Lead {i}" for i in range(5, 0, -1)])
        for i in range(3, 6):  # still in the range read (rows 2 to 6): written by key
            with self.subTest(i=i):
                self.assertEqual(self.cells(f"Lead {i}")[:3], self.expected(f"Lead {i}"))
        self.assertEqual(self.cells("Lead 8"), ["", "", "", ""])  # not imported yet
        # pushed below the range: not written now, counted as waiting
        self.assertEqual(self.cells("Lead 1"), ["", "", "", ""])
        self.assertEqual(self.source.write_back_waiting, 2)
        self.assertEqual(self.sync()["imported"], 2)
        for i in (1, 2, 8, 9):
            with self.subTest(i=i):
                self.assertEqual(self.cells(f"Lead {i}")[:3], self.expected(f"Lead {i}"))
        self.assertEqual(self.source.write_back_waiting, 0)

    def test_row_deleted_before_the_write(self):
        Sync = type(self.Sync)
        create_leads = Sync._create_leads

        def delete_then_create(sync, *args):
            del self.rows[2]  # "Lead 2"
            return create_leads(sync, *args)

        with patch.object(Sync, "_create_leads", delete_then_create):
            self.assertEqual(self.sync()["imported"], 5)
        self.assertEqual(len(self.rows), 5)  # no row written past the end of the sheet
        for name in ("Lead 1", "Lead 3", "Lead 4", "Lead 5"):
            with self.subTest(name):
                self.assertEqual(self.cells(name)[:3], self.expected(name))

    def test_429_and_500_on_a_write(self):
        self.google.inject(429, times=1, path="write")
        self.google.inject(500, times=1, path="write")
        self.sync()
        self.assertEqual(self.cells("Lead 1")[:3], self.expected("Lead 1"))
        self.assertEqual(self.source.last_sync_state, "ok")
        # Google keeps failing the writes: the leads are imported all the same
        self.rows.extend(lead_row(i) for i in range(6, 9))
        self.google.inject(500, times=100, path="write")
        with mute_logger("gspread", SYNC_LOGGER):
            self.assertEqual(self.sync()["imported"], 3)
        self.assertEqual(
            (self.source.last_sync_state, self.source.write_back_waiting), ("partial", 3)
        )
        self.assertIn("Write-back to the sheet failed", self.source.last_sync_message)
        self.assertIn("3 row(s) wait", self.source.last_sync_message)
        self.assertEqual(self.cells("Lead 7"), ["", "", "", ""])
        self.google.clear_faults()
        self.assertEqual(self.sync()["imported"], 0)  # nothing lost, nothing twice
        self.assertEqual(len(self.leads()), 8)
        self.assertEqual(self.cells("Lead 7")[:3], self.expected("Lead 7"))
        self.assertEqual((self.source.last_sync_state, self.source.write_back_waiting), ("ok", 0))

    def test_read_write_scope_asked_only_when_needed(self):
        self.source.write_back = False
        self.sync()
        self.assertEqual(self.google.count("write"), 0)
        scopes = {scope for _email, scope in self.google.tokens.values()}
        self.assertEqual(scopes, {"https://www.googleapis.com/auth/spreadsheets.readonly"})
        self.assertEqual(self.rows[0], HEADERS)
        self.google.tokens.clear()
        self.source.write_back = True
        self.sync()
        scopes = {scope for _email, scope in self.google.tokens.values()}
        self.assertEqual(scopes, {WRITE_SCOPE})
        # turned on later, it writes the rows already imported
        self.assertEqual(self.cells("Lead 3")[:3], self.expected("Lead 3"))

    def test_sheet_shared_read_only(self):
        email = self.source.service_account_email
        self.google.spreadsheets[SHEET_KEY].viewers = {email}
        action = self.source.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn(f"Share the sheet with {email} as Editor", action["params"]["message"])
        with mute_logger("gspread", SYNC_LOGGER):
            self.assertEqual(self.sync()["imported"], 5)  # the import does not depend on it
        self.assertEqual(self.source.last_sync_state, "partial")
        self.assertIn("The caller does not have permission", self.source.last_sync_message)
        self.google.spreadsheets[SHEET_KEY].viewers = set()
        action = self.source.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("may write to the sheet", action["params"]["message"])
        self.assertEqual(self.rows[0], HEADERS + WRITE_BACK)  # added by Test connection

    def test_reassignment_updates_the_cell(self):
        self.sync()
        lead = self.lead("Lead 2")
        other = (self.salespeople - lead.user_id)[0]
        lead.user_id = other
        writes = len(self.google.writes)
        self.sync()
        self.assertEqual(self.cells("Lead 2")[0], other.name)
        self.assertEqual(len(self.google.writes), writes + 1)
        (data,) = self.google.writes[-1]["data"]  # that row only
        self.assertEqual(data["values"][0][:3], self.expected("Lead 2"))

    def test_renamed_columns_are_matched(self):
        self.source.write_back_user_header = "Owner name"
        self.rows[0] += ["status", "OWNER NAME"]  # present, other case and place
        self.sync()
        self.assertEqual(self.rows[0], [*HEADERS, "status", "OWNER NAME", "Odoo Lead",
                                        "Imported On"])  # fmt: skip
        row = self.rows[1]
        self.assertEqual((row[7], row[8]), ("Imported", self.lead("Lead 1").user_id.name))

    def test_two_tabs(self):
        """A one-tab source imports, then reads two tabs: its rows are not imported
        again, the new tab's are, and each tab gets its own cells."""
        self.sync()
        lead_1 = self.lead("Lead 1")
        more = self.google.add_tab(SHEET_KEY, "More", [list(HEADERS), lead_row(6), lead_row(1)])
        self.source.worksheet = "Leads, More"
        totals = self.sync()
        self.assertEqual((totals["imported"], totals["skipped"]), (2, 5))  # "Lead 1" of More too
        keys = self.source.row_ids.mapped("key")
        self.assertTrue(all(key.startswith(("tab:Leads!", "tab:More!")) for key in keys))
        self.assertEqual(len(self.leads()), 7)
        self.assertEqual(self.cells("Lead 6", more)[:3], self.expected("Lead 6"))
        self.assertTrue(self.cells("Lead 1")[1].endswith(f"/odoo/crm/{lead_1.id}"))
        tab_lead = self.lead("Lead 1") - lead_1
        self.assertEqual(len(tab_lead), 1)
        self.assertTrue(self.cells("Lead 1", more)[1].endswith(f"/odoo/crm/{tab_lead.id}"))
        self.source.write({"worksheet": False, "all_worksheets": True})
        self.assertEqual(self.sync()["imported"], 0)
