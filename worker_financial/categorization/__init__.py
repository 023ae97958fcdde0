"""Categorization: user rules, a local model trained on the ledger, and the two together (hybrid)."""
