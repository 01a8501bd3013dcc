"""Errors a user can cause, turned into messages in one place (see register_error_handlers)."""


class PortalError(Exception):
    """A request the portal refuses, with a message fit to show the user."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(PortalError):
    """The acting user may not do this to this object."""


class ConflictError(PortalError):
    """Someone else changed the object since the user loaded it."""


class ImportRejected(PortalError):
    """A file was refused whole; nothing from it was saved."""

    def __init__(self, file, row=None, column=None, reason=""):
        self.file, self.row, self.column, self.reason = file, row, column, reason
        where = [f"{file}"]
        if row is not None:
            where.append(f"row {row}")
        if column:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {reason}", field=column)
