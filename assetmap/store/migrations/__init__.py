"""Versioned schema migrations, one folder per backend."""
