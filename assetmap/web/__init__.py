"""The Flask app: thin views that parse, call down and render."""

from assetmap.web.app import create_app, current_store

__all__ = ["create_app", "current_store"]
