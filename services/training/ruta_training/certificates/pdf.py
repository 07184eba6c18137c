"""Renders a certificate as a one-page PDF in Spanish (reportlab)."""

from __future__ import annotations

import io
from datetime import date

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from ruta_shared.reference import REGIONS, TRAINING_FORMATS

from ruta_training.certificates.models import PrintableCertificate

MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


def spanish_date(day: date) -> str:
    """`3 de mayo de 2017`."""
    return f"{day.day} de {MONTHS[day.month - 1]} de {day.year}"


def period(starts_on: date, ends_on: date) -> str:
    """`el 3 de mayo de 2017`, or `del 3 al 5 de mayo de 2017` style ranges."""
    if starts_on == ends_on:
        return f"el {spanish_date(starts_on)}"
    return f"del {spanish_date(starts_on)} al {spanish_date(ends_on)}"


def render(certificate: PrintableCertificate) -> bytes:
    """The PDF bytes (text left uncompressed: small, and searchable by tests)."""
    buffer = io.BytesIO()
    width, height = landscape(A4)
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=0)
    canvas.setTitle(f"Certificado: {certificate.course}")
    canvas.setAuthor(certificate.organisation)
    canvas.setLineWidth(3)
    canvas.rect(1.2 * cm, 1.2 * cm, width - 2.4 * cm, height - 2.4 * cm)
    centre = width / 2
    canvas.setFont("Helvetica", 14)
    canvas.drawCentredString(centre, height - 3.2 * cm, certificate.organisation)
    canvas.setFont("Helvetica-Bold", 34)
    canvas.drawCentredString(centre, height - 5.2 * cm, "CERTIFICADO")
    canvas.setFont("Helvetica", 15)
    canvas.drawCentredString(centre, height - 7 * cm, "Se otorga el presente certificado a")
    canvas.setFont("Helvetica-Bold", 24)
    canvas.drawCentredString(centre, height - 8.6 * cm, certificate.full_name)
    format_label = TRAINING_FORMATS.get(certificate.format, "curso").lower()
    article = "la" if certificate.format in {"talk", "technical_assistance"} else "el"
    canvas.setFont("Helvetica", 14)
    canvas.drawCentredString(
        centre, height - 10.2 * cm, f"por haber participado en {article} {format_label}"
    )
    canvas.setFont("Helvetica-Bold", 17)
    canvas.drawCentredString(centre, height - 11.4 * cm, f"«{certificate.course}»")
    canvas.setFont("Helvetica", 13)
    region = REGIONS.get(certificate.region, certificate.region)
    canvas.drawCentredString(
        centre,
        height - 12.8 * cm,
        f"realizado en {region} {period(certificate.starts_on, certificate.ends_on)}, "
        f"con {certificate.hours:g} horas pedagógicas de asistencia.",
    )
    canvas.drawCentredString(
        centre, height - 14.4 * cm, f"Emitido el {spanish_date(certificate.issued_on)}."
    )
    canvas.setFont("Helvetica", 10)
    canvas.drawString(2.2 * cm, 3.2 * cm, f"Código de verificación: {certificate.code}")
    canvas.drawString(
        2.2 * cm, 2.6 * cm, f"Verifique su validez en: {certificate.verification_url}"
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
