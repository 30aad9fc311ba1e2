"""Clause coverage: areas x clauses with the last audit of each pair, gaps highlighted, CSV."""

import re
from datetime import date

from flask import Response, render_template, request
from wtforms import SelectChoice

from ..access import allow
from ..services import coverage
from .blueprint import bp
from .programme_forms import CoverageFilterForm


def _matrix():
    """The matrix the query string asks for: a standard and a cycle, with sane defaults."""
    standards = coverage.standards()
    form = CoverageFilterForm(request.args)
    form.standard.choices = [SelectChoice(s) for s in standards]
    standard, cycle = (standards[0] if standards else ""), coverage.CYCLE_MONTHS
    if form.validate():
        standard = form.standard.data or standard
        cycle = form.cycle.data or cycle
    else:
        form.cycle.data = cycle
    form.standard.data = standard
    return form, (coverage.matrix(standard, cycle_months=cycle) if standard else None), cycle


@bp.route("/coverage")
@allow("programme.plan")
def coverage_page():
    form, matrix, cycle = _matrix()
    return render_template("coverage.html", form=form, matrix=matrix, cycle=cycle, today=date.today())


@bp.route("/coverage.csv")
@allow("programme.plan")
def coverage_csv():
    _, matrix, _ = _matrix()
    body = coverage.to_csv(matrix) if matrix else "standard,site,area,clause,last_audited,result,audit_id,gap\r\n"
    slug = re.sub(r"[^a-z0-9]+", "-", (matrix.standard if matrix else "none").lower()).strip("-")
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="coverage-{slug}-{date.today()}.csv"'})
