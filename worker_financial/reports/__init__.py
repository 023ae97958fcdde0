"""report-generation: financial reports over the ledger, written to files in four formats."""
