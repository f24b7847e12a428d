"""The client's address, as the trusted reverse proxies saw it.

Each trusted proxy appends the address it received the request from to
``X-Forwarded-For`` (nginx: ``$proxy_add_x_forwarded_for``). Behind N trusted
proxies the client is therefore the N-th entry from the right; anything to its
left was sent by the client and may be forged. With no proxy, or a header with
fewer entries than trusted proxies, the peer's own address is used.
"""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    peer = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return peer
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    if len(hops) < count:
        return peer
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer
