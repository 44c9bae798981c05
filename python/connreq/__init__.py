"""connreq: the connection-request ("invitation") system of a professional network.

Members invite each other; the invitee accepts, ignores or declines; the
inviter can withdraw; the other side is told in-app and by email. Members
block and report each other, and moderation watches for abuse.

>>> from connreq import Network
>>> with Network.temporary() as net:
...     net.register(1, name="Ada")
...     net.register(2, name="Bob")
...     rid = net.send(1, 2, "We met at the conference")
...     net.accept(2, rid)
...     net.connections(1)
[2]

The rules live in Rust (``connreq-core``); this package is a thin binding.

``connreq serve`` runs a network as an HTTP service, so many processes share
it; ``Client`` has the same methods against such a server, and
``member_token`` mints the token a member's client signs in with.

The ``connreq`` command line is part of the package too: the ``connreq``
command (or ``python -m connreq``) runs it, and ``run_cli`` runs it in process:

>>> from connreq import run_cli
>>> run_cli(["connreq", "--db", "invites.db", "simulate", "--members", "2000"])  # doctest: +SKIP
0
"""

from connreq._connreq import (
    AccountRestricted,
    AlreadyConnected,
    AlreadyPending,
    Client,
    ConnectionLimit,
    ConnreqError,
    CooldownActive,
    Email,
    Event,
    EventStream,
    Flag,
    InvalidInput,
    InvalidTransition,
    Invitation,
    InvitationNotAllowed,
    MailError,
    MemberExists,
    Network,
    NotAuthorized,
    NoteTooLong,
    NotFound,
    Notification,
    OutstandingLimit,
    Policy,
    RateLimited,
    Request,
    ReversePending,
    SelfRequest,
    StorageError,
    Suggestion,
    UnknownMember,
    __version__,
    member_token,
    run_cli,
)

__all__ = [
    "AccountRestricted",
    "AlreadyConnected",
    "AlreadyPending",
    "Client",
    "ConnectionLimit",
    "ConnreqError",
    "CooldownActive",
    "Email",
    "Event",
    "EventStream",
    "Flag",
    "InvalidInput",
    "InvalidTransition",
    "Invitation",
    "InvitationNotAllowed",
    "MailError",
    "MemberExists",
    "Network",
    "NotAuthorized",
    "NotFound",
    "NoteTooLong",
    "Notification",
    "OutstandingLimit",
    "Policy",
    "RateLimited",
    "Request",
    "ReversePending",
    "SelfRequest",
    "StorageError",
    "Suggestion",
    "UnknownMember",
    "__version__",
    "member_token",
    "run_cli",
]
