"""Services: use cases that combine importers, store and domain (importing, exporting)."""
