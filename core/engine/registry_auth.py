"""``X-Registry-Auth``: registry credentials travel with the request.

``docker login`` stores credentials on the *client's* side; the daemon
keeps none.  So ``docker push`` / ``pull`` put them in a header of the
request: base64url of the JSON ``{"username": …, "password": …,
"serveraddress": …}``.  The daemon uses them for that one request (and,
without the header, whatever it can find itself).  Both ends are here.
"""

from __future__ import annotations

import base64
import binascii
import json

HEADER = "X-Registry-Auth"


def encode(username: str, password: str, server: str) -> str:
    document = {"username": username, "password": password, "serveraddress": server}
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


def decode(value: str | None) -> tuple[str, str] | None:
    """(username, password) from the header; None if it carries none.
    Raises ValueError for a header that is not base64 JSON."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        document = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"invalid {HEADER} header: {e}") from None
    if not isinstance(document, dict):
        raise ValueError(f"invalid {HEADER} header: expected a JSON object")
    username, password = document.get("username"), document.get("password")
    if not username or not isinstance(username, str) or not isinstance(password, str):
        return None  # docker sends "{}" when logged out
    return username, password
