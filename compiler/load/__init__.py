"""The only reader of the config repository: every input file, with positions and limits."""
