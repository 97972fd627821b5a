"""The typed config model (the single source of truth), its JSON Schemas, and the config as one value."""
