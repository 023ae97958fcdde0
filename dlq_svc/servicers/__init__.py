"""The gRPC edge of dlq-svc: thin servicers that decode, call the domain, encode."""
