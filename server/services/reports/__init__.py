"""Reports from the register: an audit's PDF, its evidence pack, exports of the lists.

`collect` gathers what a report shows; `pdf` draws it; `pack` zips it with the original
photos and their checksums; `exports` streams the findings and actions lists.
"""

from .collect import AuditReport, Evidence, collect
from .exports import (
           ACTION_COLUMNS,
           FINDING_COLUMNS,
           action_rows,
           csv_stream,
           finding_rows,
           xlsx_file,
)
from .pack import evidence_pack, pack_name
from .pdf import audit_pdf, render_pdf, thumbnail

__all__ = ["ACTION_COLUMNS", "FINDING_COLUMNS", "AuditReport", "Evidence", "action_rows", "audit_pdf", "collect",
           "csv_stream", "evidence_pack", "finding_rows", "pack_name", "render_pdf", "thumbnail", "xlsx_file"]
