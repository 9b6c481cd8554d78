"""Colour difference and contrast for checking map palettes.

CIEDE2000 as defined by CIE 142-2001, following the worked formulae of Sharma, Wu and Dalal,
"The CIEDE2000 color-difference formula: implementation notes, supplementary test data, and
mathematical observations" (Color Research & Application 30(1), 2005); sRGB to CIELAB with the
D65 white point (IEC 61966-2-1); contrast ratio and relative luminance as WCAG 2.2 defines them.
"""

from __future__ import annotations

import math

Lab = tuple[float, float, float]

# D65 reference white, XYZ with Y = 1.
_WHITE = (0.95047, 1.0, 1.08883)
_DELTA = 6 / 29


def _channels(colour: str) -> tuple[float, float, float]:
    """``#rrggbb`` → sRGB channels 0–1."""
    text = colour.removeprefix("#")
    return (int(text[0:2], 16) / 255, int(text[2:4], 16) / 255, int(text[4:6], 16) / 255)


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of an sRGB colour (0 black – 1 white)."""
    r, g, b = (_linear(c) for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def over(colour: str, background: str, opacity: float) -> str:
    """``colour`` drawn at ``opacity`` over ``background`` (sRGB alpha blending, as browsers do)."""
    mixed = (
        opacity * c + (1 - opacity) * b
        for c, b in zip(_channels(colour), _channels(background), strict=True)
    )
    return "#" + "".join(f"{round(v * 255):02x}" for v in mixed)


def to_lab(colour: str) -> Lab:
    """An sRGB colour in CIELAB (D65)."""
    r, g, b = (_linear(c) for c in _channels(colour))
    xyz = (
        0.4124564 * r + 0.3575761 * g + 0.1804375 * b,
        0.2126729 * r + 0.7151522 * g + 0.0721750 * b,
        0.0193339 * r + 0.1191920 * g + 0.9503041 * b,
    )

    def f(t: float) -> float:
        return t ** (1 / 3) if t > _DELTA**3 else t / (3 * _DELTA**2) + 4 / 29

    fx, fy, fz = (f(v / w) for v, w in zip(xyz, _WHITE, strict=True))
    return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))


def ciede2000(lab1: Lab, lab2: Lab) -> float:
    """CIEDE2000 colour difference ΔE00 of two CIELAB colours (kL = kC = kH = 1)."""
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0

    # Hue difference and mean hue go the short way round the circle.
    if c1p * c2p == 0:
        dhp = 0.0
        h_mean = h1p + h2p
    else:
        dhp = h2p - h1p
        if dhp > 180:
            dhp -= 360
        elif dhp < -180:
            dhp += 360
        h_mean = (h1p + h2p) / 2
        if abs(h1p - h2p) > 180:
            h_mean += 180 if h1p + h2p < 360 else -180
    d_l = l2 - l1
    d_c = c2p - c1p
    d_h = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dhp / 2))

    l_mean = (l1 + l2) / 2
    cp_mean = (c1p + c2p) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(h_mean - 30))
        + 0.24 * math.cos(math.radians(2 * h_mean))
        + 0.32 * math.cos(math.radians(3 * h_mean + 6))
        - 0.20 * math.cos(math.radians(4 * h_mean - 63))
    )
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / math.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * cp_mean
    s_h = 1 + 0.015 * cp_mean * t
    rotation = -math.sin(math.radians(60 * math.exp(-(((h_mean - 275) / 25) ** 2)))) * (
        2 * math.sqrt(cp_mean**7 / (cp_mean**7 + 25**7))
    )
    return math.sqrt(
        (d_l / s_l) ** 2
        + (d_c / s_c) ** 2
        + (d_h / s_h) ** 2
        + rotation * (d_c / s_c) * (d_h / s_h)
    )


def colour_difference(a: str, b: str) -> float:
    """ΔE00 of two ``#rrggbb`` colours."""
    return ciede2000(to_lab(a), to_lab(b))


# Machado, Oliveira and Fernandes (2009), "A physiologically-based model for simulation of color
# vision deficiency", severity 1.0: linear-sRGB matrices for full dichromacy.
_DICHROMACY = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
}


def _encode(c: float) -> float:
    """Linear channel → sRGB channel, clipped to 0–1."""
    c = min(1.0, max(0.0, c))
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def simulate_dichromacy(colour: str, deficiency: str) -> str:
    """How ``colour`` looks to someone with ``deficiency`` ("protanopia" or "deuteranopia")."""
    linear = [_linear(c) for c in _channels(colour)]
    rows = _DICHROMACY[deficiency]
    seen = [_encode(sum(w * c for w, c in zip(row, linear, strict=True))) for row in rows]
    return "#" + "".join(f"{round(c * 255):02x}" for c in seen)
