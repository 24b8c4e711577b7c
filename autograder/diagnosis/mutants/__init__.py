"""Mutants of the reference library, one module per assignment (trusted side only)."""
