"""--endpoint-url pointing at an address, not a name (a local emulator such as the sandbox's moto).

S3 Control's endpoint rules put the account id in front of the host ("123456789012.s3-control...", AWS's
S3 Control API reference): in front of an IP address or localhost that name cannot resolve, so the label
is taken off again before the request is signed. Against AWS (no --endpoint-url, or a real host name)
nothing changes.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

ACCOUNT_LABEL = re.compile(r"^(?P<scheme>https?://)\d{12}\.", re.ASCII)


def is_address(endpoint_url: str) -> bool:
    host = urlsplit(endpoint_url).hostname or ""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def without_account_label(url: str) -> str:
    return ACCOUNT_LABEL.sub(r"\g<scheme>", url, count=1)


def adapt(client: Any, service: str, endpoint_url: str) -> None:
    if service != "s3control" or not is_address(endpoint_url):
        return

    def strip(request: Any, **_: Any) -> None:
        request.url = without_account_label(request.url)

    client.meta.events.register("before-sign.s3-control", strip, unique_id="aws-harden-local-s3control")
