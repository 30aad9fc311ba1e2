"""Email reminders to the owners of corrective actions that are due soon or overdue."""

import smtplib
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage

from flask import current_app

from ..models import CorrectiveAction, User
from . import actions


@dataclass
class Sent:
    owner: User
    actions: list[CorrectiveAction]


def compose(owner: User, due: list[CorrectiveAction], today: date, sender: str, base_url: str = "") -> EmailMessage:
    """One message per owner listing their overdue actions first, then those due soon."""
    overdue = [a for a in due if a.due_date < today]
    soon = [a for a in due if a.due_date >= today]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = owner.email
    subject = []
    if overdue:
        subject.append(f"{len(overdue)} overdue")
    if soon:
        subject.append(f"{len(soon)} due soon")
    message["Subject"] = "Gemba: corrective actions " + ", ".join(subject)
    lines = [f"Hello {owner.name},", ""]
    for heading, group in (("Overdue", overdue), ("Due soon", soon)):
        if not group:
            continue
        lines.append(f"{heading}:")
        for a in group:
            days = (today - a.due_date).days
            when = f"due {a.due_date.isoformat()}" + (f", {days} days late" if days > 0 else "")
            lines.append(f"  - {a.finding.title} ({a.finding.area.label}): {a.plan} [{when}]")
            if base_url:
                lines.append(f"    {base_url.rstrip('/')}/findings/{a.finding_id}")
        lines.append("")
    lines.append("Mark an action done in the register or the field app once it is done.")
    message.set_content("\n".join(lines) + "\n")
    return message


def send_reminders(today: date | None = None, within_days: int = 3, base_url: str = "") -> list[Sent]:
    """Email every owner of an open action due within `within_days` or overdue.

    One SMTP connection for the run; a refused recipient does not stop the others.
    """
    today = today or date.today()
    grouped = actions.reminders(today, within_days)
    if not grouped:
        return []
    config = current_app.config
    sent = []
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
        for owner, due in grouped.items():
            message = compose(owner, due, today, config["SMTP_FROM"], base_url)
            try:
                smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused:
                continue
            sent.append(Sent(owner, due))
    return sent
