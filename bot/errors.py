"""The two tiers of failure: what the person can fix, and what they cannot."""


class UserFacingError(Exception):
    """A problem with what the person sent (too long, empty, malformed); its text is the reply.

    The message must never quote the person's input back: it may hold patient data.
    """
