"""What every export (CSV, XLSX) writes into a cell."""


def spreadsheet_cell(value):
    """Text for a spreadsheet cell; a leading = + - @ would be read as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
