"""The one error of the contract."""


class ContractViolation(Exception):
    """An event does not match its contract (on publish: a bug; on consume: a poison message)."""

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.errors = errors or {}

    def __str__(self):
        if self.errors:
            return "{}: {}".format(self.args[0], self.errors)
        return self.args[0]
