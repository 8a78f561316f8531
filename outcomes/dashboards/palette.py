"""One colour per technique, the same on every page: the Okabe-Ito palette, which stays
distinguishable with the common colour-vision deficiencies (and in greyscale, by order).

The four techniques of DOMAIN.md have fixed colours; a technique an administrator adds
takes the next unused colour in the order of its code, so it too keeps its colour from
page to page.
"""

from __future__ import annotations

from collections.abc import Iterable

OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
FIXED = {
    "PKP": OKABE_ITO[0],
    "PVP": OKABE_ITO[1],
    "VESSELPLASTY": OKABE_ITO[2],
    "VBS": OKABE_ITO[3],
}
_SPARE = OKABE_ITO[4:]
REFERENCE = "#6c757d"  # registry-wide reference lines: grey, never a technique's colour
HIGHLIGHT = OKABE_ITO[5]


def technique_colours(codes: Iterable[str]) -> dict[str, str]:
    """code -> colour for these codes; unknown codes get the spare colours in code order."""
    codes = sorted(set(codes))
    extra = [code for code in codes if code not in FIXED]
    colours = {code: FIXED[code] for code in codes if code in FIXED}
    for index, code in enumerate(extra):
        colours[code] = _SPARE[index % len(_SPARE)]
    return colours


def colour_of(code: str, codes: Iterable[str] = ()) -> str:
    return technique_colours([code, *codes])[code]
