"""The one exception type that stages turn into a one-line message and a non-zero exit."""


class UvlError(Exception):
    """A problem the user can fix (bad params, missing or corrupted data); its message is one line."""
