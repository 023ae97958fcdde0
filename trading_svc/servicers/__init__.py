"""The gRPC edge of trading-svc: thin servicers that decode, call the domain, encode."""
