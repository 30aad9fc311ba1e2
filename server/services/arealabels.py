"""QR labels for areas: what a label's code says and the QR drawn as inline SVG.

A label carries a URL to the field app with the area's short code in it
(`/app/#/area/K7QM2X`), so a phone's own camera opens the app on that area, and the
app's scanner reads the same code out of it. The code is printed under the QR for when
no camera can read it.
"""

from functools import lru_cache

import qrcode
from markupsafe import Markup, escape

from ..models import Area
from .invitations import base_url

FIELD_APP_AREA = "/app/#/area/"


def label_url(area: Area, base: str | None = None) -> str:
    """The address a label of `area` carries: the field app, opened on the area."""
    return f"{base if base is not None else base_url()}{FIELD_APP_AREA}{area.code}"


@lru_cache(maxsize=4096)
def qr_svg(text: str, label: str) -> Markup:
    """`text` as a QR code: an inline <svg> of one path, a quiet zone of 4 modules around it.

    Error correction M (15 % of the code may be lost: a scuffed or dirty label still reads),
    and the mask the standard's penalty rules find easiest to read - choosing it is most of
    the ~20 ms a code takes, so codes are kept per process: the answer depends on the
    arguments alone (a code never changes), so there is nothing for processes to agree on.
    Each dark run of a row is one rectangle, which keeps the markup small.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()  # includes the border
    size = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return Markup(
        f'<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" role="img" '
        f'aria-label="{escape(label)}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/><path fill="#000" d="{"".join(runs)}"/></svg>'
    )
