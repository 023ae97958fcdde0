"""The four trading job processors: each takes its job (and the exchange) and returns its result message."""
