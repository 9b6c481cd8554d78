"""Assetmap: community asset mapping for English adult social care."""

__version__ = "0.1.0"
