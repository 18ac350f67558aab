"""Address verification reference data (POLICY rule 13)."""
