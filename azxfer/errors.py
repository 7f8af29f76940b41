"""Our exception tree. Every error carries a one-line user message and an exit code.

Errors are classified once, where they arise (a driver turns an SDK error into one of these),
and carried by type, never by matching message strings.
"""

from __future__ import annotations


class AzxferError(Exception):
    """Base of every error azxfer reports to a user; `str(err)` is the one-line message."""

    exit_code: int = 1
    retryable: bool = False


class UsageError(AzxferError):
    """The command line cannot be carried out as given (bad location, option or combination)."""

    exit_code = 2


class LocationError(UsageError):
    """A source or destination location is malformed, unsupported or points nowhere."""


class CredentialError(AzxferError):
    """Credentials are missing, malformed, expired or insufficient for the operation."""

    # The SAS permission the denied request needed, as "l (list)", when known: a denied SAS
    # token is then told which permission it lacks.
    needs: str = ""


class UnreachableError(AzxferError):
    """The service cannot be reached at all (refused, unknown host): fatal for the job."""


class NotFoundError(AzxferError):
    """A container, blob or local path that must exist does not."""


class AlreadyExists(AzxferError):
    """What was to be created exists already, and the command was told that is an error."""


class ContainerMissing(NotFoundError):
    """A container the job reads or writes does not exist: no transfer of the job can succeed,
    so the job stops once (resumable) instead of failing every file."""


class DestinationFull(AzxferError):
    """The destination has no room left (an Azure Files share's quota is reached): no transfer
    of the job can succeed until it is raised, so the job stops once (resumable) instead of
    failing every file."""


class TransferError(AzxferError):
    """One transfer failed; the job records it and goes on with the others."""


class RetryableError(TransferError):
    """A transient failure (network, throttling, 5xx) that a later attempt may overcome.

    A kind that is rarely transient caps its own `attempts` (None: the policy's), and says
    with `exhausted()` what it becomes when they run out.
    """

    retryable = True
    attempts: int | None = None

    def exhausted(self) -> AzxferError:
        """The error to report once every attempt failed."""
        return self


class ServerError(RetryableError):
    """The service answered 5xx: transient as a rule. Yet a server-side copy method that has
    never worked in the job may be one the service cannot carry out at all (Azurite answers
    500 to a SAS-authorised Put Blob From URL), so the copy engine keeps `status` to judge."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class IntegrityError(TransferError):
    """Data at the destination does not match the source (MD5 mismatch, source changed)."""


class NotSupportedError(TransferError):
    """The service does not implement an operation (Azurite's 501s, a feature an account
    lacks); `operation` names it so a caller can choose another way for the rest of the job."""

    def __init__(self, message: str, operation: str = "") -> None:
        super().__init__(message)
        self.operation = operation


class CopySourceError(TransferError):
    """The service could not read the source of a server-side copy (CannotVerifyCopySource):
    unreachable from the service, or the source's authorization was refused."""


class Interrupted(AzxferError):
    """The job is stopping; this transfer stopped between chunks and can be resumed."""


class Declined(AzxferError):
    """A destructive step was declined (at a prompt, or by a limit without a terminal to
    ask): nothing was done, and no job is kept."""


class Cancelled(AzxferError):
    """The user interrupted the job."""

    exit_code = 130


def first_cause(group: BaseExceptionGroup) -> BaseException:
    """The first real failure inside a task group (cancellations are consequences)."""
    import asyncio  # loaded by then; not at import (the early listing starts without it)

    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return first_cause(exc)
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return group.exceptions[0]
