"""Reports and exports: an audit's PDF and evidence pack, the register's lists as CSV/XLSX."""

from datetime import date

from flask import Response, send_file, stream_with_context
from flask_login import current_user
from flask_smorest import Blueprint

from ..access import SIGNED_IN, allow
from ..ids import uuid_or_none
from ..schemas.register import ActionFilterSchema, FindingFilterSchema
from ..services import actions, audits, listings, reports

blp = Blueprint("reports", __name__, url_prefix="/api", description="Reports, evidence packs and exports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route("/audits/<uuid:audit_id>/report.pdf")
@allow(SIGNED_IN)
@blp.response(200, content_type="application/pdf", description="The audit report")
@blp.alt_response(401, description="Not signed in")
@blp.alt_response(403, description="Not allowed to view this audit")
@blp.alt_response(404, description="No such audit")
def audit_report(audit_id):
    """The PDF report of an audit: cover, score, answers, findings with actions, photo hashes."""
    audit = audits.get_audit(current_user, audit_id)
    pdf = reports.audit_pdf(current_user, audit)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{reports.pack_name(audit)}.pdf"',
    })


@blp.route("/audits/<uuid:audit_id>/evidence-pack")
@allow(SIGNED_IN)
@blp.response(200, content_type="application/zip", description="report.pdf, photos/, SHA256SUMS")
@blp.alt_response(401, description="Not signed in")
@blp.alt_response(403, description="Not allowed to view this audit")
@blp.alt_response(404, description="No such audit")
def evidence_pack(audit_id):
    """A ZIP with the report, every original photo and a SHA256SUMS file for `sha256sum -c`."""
    audit = audits.get_audit(current_user, audit_id)
    spool = reports.evidence_pack(current_user, audit)
    return send_file(spool, mimetype="application/zip", as_attachment=True,
                     download_name=f"{reports.pack_name(audit)}-evidence.zip")


def _findings(args):
    return listings.finding_query(current_user, **listings.finding_filters(**args))


def _actions(args):
    status = args.get("status") or None
    owner = args.get("owner") or None
    owner_id = current_user.id if owner == "me" else uuid_or_none(owner)
    return actions.action_query(current_user, status=None if status == "overdue" else status,
                                owner_id=owner_id, overdue=status == "overdue")


def _csv(name: str, columns, rows):
    return Response(stream_with_context(reports.csv_stream(columns, rows)), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}-{date.today().isoformat()}.csv"',
    })


def _xlsx(name: str, columns, rows):
    spool = reports.xlsx_file(name, columns, rows)
    return send_file(spool, mimetype=XLSX, as_attachment=True, download_name=f"{name}-{date.today().isoformat()}.xlsx")


@blp.route("/findings/export.csv")
@allow("finding.list")
@blp.arguments(FindingFilterSchema, location="query")
@blp.response(200, content_type="text/csv", description="The filtered findings")
@blp.alt_response(401, description="Not signed in")
@blp.alt_response(422, description="A filter is not valid")
def findings_csv(args):
    """The findings list as CSV, with the same filters as the register page."""
    return _csv("findings", reports.FINDING_COLUMNS, reports.finding_rows(_findings(args)))


@blp.route("/findings/export.xlsx")
@allow("finding.list")
@blp.arguments(FindingFilterSchema, location="query")
@blp.response(200, content_type=XLSX, description="The filtered findings")
@blp.alt_response(401, description="Not signed in")
@blp.alt_response(422, description="A filter is not valid")
def findings_xlsx(args):
    """The findings list as an Excel workbook, with the same filters as the register page."""
    return _xlsx("findings", reports.FINDING_COLUMNS, reports.finding_rows(_findings(args)))


@blp.route("/actions/export.csv")
@allow("finding.list")
@blp.arguments(ActionFilterSchema, location="query")
@blp.response(200, content_type="text/csv", description="The filtered corrective actions")
@blp.alt_response(401, description="Not signed in")
@blp.alt_response(422, description="A filter is not valid")
def actions_csv(args):
    """The corrective actions list as CSV, with the same filters as the register page."""
    return _csv("actions", reports.ACTION_COLUMNS, reports.action_rows(_actions(args)))


@blp.route("/actions/export.xlsx")
@allow("finding.list")
@blp.arguments(ActionFilterSchema, location="query")
@blp.response(200, content_type=XLSX, description="The filtered corrective actions")
@blp.alt_response(401, description="Not signed in")
@blp.alt_response(422, description="A filter is not valid")
def actions_xlsx(args):
    """The corrective actions list as an Excel workbook, with the same filters as the register page."""
    return _xlsx("actions", reports.ACTION_COLUMNS, reports.action_rows(_actions(args)))
