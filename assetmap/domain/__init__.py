"""Domain model: assets, taxonomy, vocabularies and validation. No I/O."""
