"""The peer a Django shop would build: django-friendship behind Django JSON views, served by
gunicorn on PostgreSQL, on the same routes as connreq's API under ``/api/`` (see
``benches/django_peer.sh``, which starts PostgreSQL and gunicorn and runs the same load driver).

    send      POST /api/requests {sender, recipient}            Friend.objects.add_friend
    accept    POST /api/requests/{id}/accept {recipient}        FriendshipRequest.accept
    ignore    POST /api/requests/{id}/ignore {recipient}        FriendshipRequest.mark_viewed (no ignore)
    decline   POST /api/requests/{id}/decline {recipient}       FriendshipRequest.reject
    withdraw  POST /api/requests/{id}/withdraw {sender}         FriendshipRequest.cancel
    block     PUT  /api/members/{a}/blocks/{b}                  Block.objects.add_block
    queries   GET  /api/members/{m}/sent|received|connections|notifications

Each view runs in one transaction (``ATOMIC_REQUESTS``) and PostgreSQL commits durably
(``synchronous_commit`` on, its default): acknowledged means durable, as with connreq.
There are no credentials, events, notifications or emails: it does less than connreq.
"""

from __future__ import annotations

import json
import os
from typing import Any

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "friendship"],
    MIDDLEWARE=[],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("PEER_DB", "peer"),
            "HOST": os.environ.get("PEER_HOST", "127.0.0.1"),
            "PORT": os.environ.get("PEER_PORT", "5432"),
            "USER": os.environ.get("PEER_USER", "postgres"),
            "CONN_MAX_AGE": None,
            "ATOMIC_REQUESTS": True,
        }
    },
    USE_TZ=True,
    LOGGING={
        "version": 1,
        "handlers": {"err": {"class": "logging.StreamHandler"}},
        "loggers": {"django.request": {"handlers": ["err"], "level": "ERROR"}},
    },
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from friendship.exceptions import AlreadyExistsError, AlreadyFriendsError  # noqa: E402
from friendship.models import Block, Friend, FriendshipRequest  # noqa: E402


def body(request: HttpRequest) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(request.body or b"{}")
    return data


def error(status: int, name: str, message: str) -> JsonResponse:
    return JsonResponse({"error": name, "message": message}, status=status)


def request_json(r: FriendshipRequest) -> dict[str, Any]:
    return {"id": r.id, "sender": r.from_user_id, "recipient": r.to_user_id, "note": r.message or None}


@csrf_exempt
def members(request: HttpRequest) -> HttpResponse:
    m = body(request)["member"]
    _, created = User.objects.get_or_create(id=m, defaults={"username": str(m)})
    if not created:
        return error(409, "MemberExists", f"member {m} is already registered")
    return JsonResponse({"member": m}, status=201)


@csrf_exempt
def send(request: HttpRequest) -> HttpResponse:
    b = body(request)
    try:
        sender = User.objects.get(id=b["sender"])
        recipient = User.objects.get(id=b["recipient"])
    except User.DoesNotExist:
        return error(404, "UnknownMember", "unknown member")
    if Block.objects.is_blocked(sender, recipient) or Block.objects.is_blocked(recipient, sender):
        return error(403, "InvitationNotAllowed", "not accepting invitations from you")
    try:
        r = Friend.objects.add_friend(sender, recipient, message=b.get("note") or "")
    except AlreadyFriendsError:
        return error(409, "AlreadyConnected", "already connected")
    except AlreadyExistsError:
        return error(409, "AlreadyPending", "already pending")
    except Exception as e:  # django-friendship raises ValidationError for self-requests
        return error(422, "SelfRequest", str(e))
    return JsonResponse(request_json(r), status=201)


@csrf_exempt
def act(request: HttpRequest, rid: int, action: str) -> HttpResponse:
    b = body(request)
    try:
        if action == "withdraw":
            r = FriendshipRequest.objects.get(id=rid, from_user_id=b["sender"])
        else:
            r = FriendshipRequest.objects.get(id=rid, to_user_id=b["recipient"])
    except FriendshipRequest.DoesNotExist:
        return error(404, "NotFound", f"request {rid} was not found")
    out = request_json(r)
    if action == "accept":
        r.accept()
    elif action == "ignore":
        r.mark_viewed()
    elif action == "decline":
        r.reject()
    else:
        r.cancel()
    return JsonResponse(out)


@csrf_exempt
def block(request: HttpRequest, a: int, b: int) -> HttpResponse:
    try:
        Block.objects.add_block(User.objects.get(id=a), User.objects.get(id=b))
    except AlreadyExistsError:
        pass
    except User.DoesNotExist:
        return error(404, "UnknownMember", "unknown member")
    except Exception as e:
        return error(422, "InvalidInput", str(e))
    return HttpResponse(status=204)


def view(request: HttpRequest, m: int, what: str) -> HttpResponse:
    try:
        user = User.objects.get(id=m)
    except User.DoesNotExist:
        return error(404, "UnknownMember", "unknown member")
    if what == "sent":
        return JsonResponse([request_json(r) for r in Friend.objects.sent_requests(user)], safe=False)
    if what == "received":
        return JsonResponse([request_json(r) for r in Friend.objects.requests(user)], safe=False)
    if what == "connections":
        return JsonResponse(sorted(u.id for u in Friend.objects.friends(user)), safe=False)
    return JsonResponse({"unread": Friend.objects.unread_request_count(user)})


urlpatterns = [
    path("api/members", members),
    path("api/requests", send),
    path("api/requests/<int:rid>/<str:action>", act),
    path("api/members/<int:a>/blocks/<int:b>", block),
    path("api/members/<int:m>/<str:what>", view),
]

application = WSGIHandler()
