"""Resident import (居民信息导入): read a spreadsheet, check every row, then load it.

The flow is preview → confirm → run:

- `import_preview` reads the upload (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030
  as Excel on Chinese Windows saves it; XLSX through tablib), checks every row
  against the database and the importer's scope, and records an ImportJob with
  the counts (new / update / unchanged / error) and the errors by row and
  column, as Excel numbers the rows (the header is row 1).
- `import_confirm` takes the user's choice: the valid rows, or all or nothing
  (refused while any row has an error). Small files run in the request; large
  ones (more than RESIDENT_IMPORT_INLINE_ROWS rows) are queued for the Celery
  task residents.tasks.import_residents, enqueued on commit.
- `import_run` checks the file again (the database may have changed since the
  preview) and writes it in ONE transaction: households created in existing
  units, residents upserted by the blind index of their ID number (or by
  household and name when a row has none), tags, one ResidentEvent IMPORT row
  per created or changed resident, one AccessLog IMPORT row. Any database
  error rolls the whole import back and marks the job failed. Re-importing the
  same file changes nothing.

Personal values never reach a message: errors name the row and the column and
show ID numbers and phones masked; a database error is reported by its kind
and constraint, never with the failing row (PostgreSQL would print it).

The package, one module per step: `parse.py` reads the file (encodings, the
header and its mapping to columns, one cell's value, the template),
`validate.py` checks the rows and makes the Plan, `write.py` holds the jobs
(preview, confirm, claim, run) and the one transaction that writes. The names
callers use are imported here.
"""

from .parse import COLUMNS, Sheet, read_sheet, template_file, template_headers, too_large_message
from .validate import Plan, check, fast_parse_id_number
from .write import (
    Progress,
    import_claim,
    import_confirm,
    import_preview,
    import_run,
    needs_worker,
    scope_edits_somewhere,
)

__all__ = [
    "COLUMNS", "Plan", "Progress", "Sheet", "check", "fast_parse_id_number", "import_claim", "import_confirm",
    "import_preview", "import_run", "needs_worker", "read_sheet", "scope_edits_somewhere", "template_file",
    "template_headers", "too_large_message",
]

