"""transaction-sync: getting an account's transactions from its provider into the ledger."""
