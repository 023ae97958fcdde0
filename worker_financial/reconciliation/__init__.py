"""account-reconciliation: an account's ledger balance against the balance it should have."""
