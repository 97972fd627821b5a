"""The two exceptions that are not config diagnostics; stdlib only, so the CLI's top-level
handler can always import this module."""


class InputError(Exception):
    """The config repository or output folder cannot be read or written (exit 2)."""


class RenderBug(Exception):
    """A rendered document fails its own schema: a bug in hks, not in the config (exit 3)."""
