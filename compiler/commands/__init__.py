"""One module per `hks` command; each defines `command`. Heavy imports stay inside functions."""
