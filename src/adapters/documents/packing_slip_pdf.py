"""Packing slips as PDF, with fpdf2 (ADR 0030): an A4 page (more when the lines run
over) with the order number as text and as a Code 39 barcode, the ship-to address,
and the shipment's lines with their quantities.

The PDF's core fonts (Helvetica) cover Latin-1 only: other characters print as ``?``.
A font with wider coverage can be embedded when shops need it.
"""

from __future__ import annotations

import re

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from commerce_core.fulfilment.packing_slip import PackingSlip
from commerce_core.shared.values import Address

_CODE39 = re.compile(r"[^0-9A-Z\-. $/+%]")
_MARGIN = 15.0
_WIDTHS = (45.0, 110.0, 25.0)  # SKU, product, quantity (mm)


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _code39(text: str) -> str:
    """Code 39 takes upper-case letters, digits and ``-. $/+%`` between ``*`` marks."""
    return f"*{_CODE39.sub('-', text.upper())}*"


def _address_lines(address: Address) -> list[str]:
    city = " ".join(part for part in (address.postal_code, address.city) if part)
    region = ", ".join(part for part in (address.region, address.country) if part)
    lines = [address.name, address.line1, address.line2 or "", city, region]
    return [line for line in lines if line]


class FpdfPackingSlips:
    """``PackingSlipRenderer`` with fpdf2."""

    def render(self, slip: PackingSlip) -> bytes:
        pdf = FPDF(format="A4")
        pdf.set_margins(_MARGIN, _MARGIN)
        pdf.set_auto_page_break(auto=True, margin=_MARGIN)
        pdf.set_title(_latin1(f"Packing slip {slip.order_number}"))
        pdf.add_page()
        self._header(pdf, slip)
        self._ship_to(pdf, slip)
        self._lines(pdf, slip)
        return bytes(pdf.output())

    def _header(self, pdf: FPDF, slip: PackingSlip) -> None:
        pdf.set_font("Helvetica", style="B", size=18)
        pdf.cell(0, 10, "Packing slip", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", size=11)
        facts = [
            f"Order {slip.order_number}",
            f"Shipment {slip.shipment_id}",
            f"Created {slip.created_at:%Y-%m-%d}",
            f"Carrier {slip.carrier}" + (f" ({slip.service})" if slip.service else ""),
        ]
        if slip.tracking_number:
            facts.append(f"Tracking {slip.tracking_number}")
        for fact in facts:
            pdf.cell(0, 6, _latin1(fact), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        top = pdf.get_y() + 2
        pdf.code39(_code39(slip.order_number), x=_MARGIN, y=top, w=1.0, h=14)
        pdf.set_y(top + 18)

    def _ship_to(self, pdf: FPDF, slip: PackingSlip) -> None:
        pdf.set_font("Helvetica", style="B", size=12)
        pdf.cell(0, 8, "Ship to", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", size=11)
        if slip.ship_to is not None:
            lines = _address_lines(slip.ship_to)
        elif slip.ship_to_erased:
            lines = ["Address erased at the customer's request"]
        else:
            lines = ["No shipping address on the order"]
        for line in lines:
            pdf.cell(0, 6, _latin1(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(4)

    def _lines(self, pdf: FPDF, slip: PackingSlip) -> None:
        pdf.set_font("Helvetica", style="B", size=11)
        for width, title in zip(_WIDTHS, ("SKU", "Product", "Quantity"), strict=True):
            pdf.cell(width, 8, title, border="B")
        pdf.ln(8)
        pdf.set_font("Helvetica", size=11)
        for line in slip.lines:
            cells = (line.sku, line.name, str(line.quantity))
            for width, text in zip(_WIDTHS, cells, strict=True):
                pdf.cell(width, 7, _latin1(text)[:60])
            pdf.ln(7)
        pdf.ln(2)
        pdf.set_font("Helvetica", style="B", size=11)
        total = sum(line.quantity for line in slip.lines)
        pdf.cell(0, 7, f"Units: {total}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
