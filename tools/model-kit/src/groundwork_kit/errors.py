"""The kit's one error type: a message naming the file, item or setting at fault."""


class KitError(Exception):
    """A user-facing error: printed as `groundwork-kit: <message>`, exit status 1."""
