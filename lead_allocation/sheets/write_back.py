"""Write-back to the sheet: where its columns are and which cells to rewrite. Pure Python.

The sync keeps four columns up to date for each row it has seen (salesperson, link to
the lead, status, import date). Rows are found by their key in the cells read just
before the write, so rows inserted, sorted or deleted since the import are written
where they are now, or not at all.
"""

from .rows import keyed_rows, normalize_header

# The write-back columns, in the order they are added to the sheet.
COLUMNS = ("user", "lead", "status", "date")


def layout(headers, names):
    """Where the write-back columns are: ``(positions, added)``.

    ``names`` is ``{column: header}`` (:data:`COLUMNS`); a header is matched as the
    mapped columns are (case, spaces and punctuation ignored). Missing columns are added
    after the last header column: ``added`` is ``[(0-based column index, header)]`` to
    write in the header row; ``positions`` is ``{column: 0-based column index}``.
    """
    found = {}
    for index, header in enumerate(headers):
        found.setdefault(normalize_header(header), index)
    positions, added = {}, []
    last = len(headers)
    for column in COLUMNS:
        index = found.get(normalize_header(names[column]))
        if index is None:
            index = last
            last += 1
            added.append((index, names[column]))
        positions[column] = index
    return positions, added


def changed_cells(chunk, columns, positions, wanted, first_rows, prefix=""):
    """The cells to rewrite in ``chunk`` (``[(row number, cells)]`` as read now):
    ``[(row number, 1-based column, [texts])]``, one entry per row and run of
    adjacent write-back columns, only for rows whose cells differ from what is wanted.

    ``wanted(key, row, first_row)`` gives ``{column: text}`` for row number ``row`` of
    that key (None: leave the row alone); ``first_row`` is the number of the first row
    with that key (a later row is a duplicate). ``first_rows`` (``{key: row number}``)
    is filled as the rows are met. ``prefix``: that of the keys of the tab
    (:func:`~.rows.tab_prefix`).
    """
    cells = dict(chunk)
    changes = []
    for number, key, _data in keyed_rows(chunk, columns, prefix):
        first = first_rows.setdefault(key, number)
        values = wanted(key, number, first)
        if values is None:
            continue
        row = cells[number]
        current = {c: row[i] if i < len(row) else "" for c, i in positions.items()}
        if any(current[c] != values[c] for c in COLUMNS):
            changes += _runs(number, positions, values)
    return changes


def _runs(number, positions, values):
    """``[(row, 1-based first column, [texts])]`` of the runs of adjacent columns."""
    ordered = sorted((index, values[column]) for column, index in positions.items())
    runs = []
    for index, text in ordered:
        if runs and runs[-1][1] + len(runs[-1][2]) == index + 1:
            runs[-1][2].append(text)
        else:
            runs.append((number, index + 1, [text]))
    return runs
