"""Pure rules of the service, no I/O: file types, ids, request rules."""
