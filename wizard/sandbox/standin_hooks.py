"""How a sandbox stand-in (billing_standin.py, guardrail_standin.py) is put in front of the services it answers:
on one client (the sandbox's), or on every botocore session made meanwhile (in-process moto tests)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

MakeSender = Callable[[Any], Callable[..., Any]]  # service model -> its before-send handler


def attach(client: Any, service: str, services: Collection[str], make_sender: MakeSender, unique_id: str) -> None:
    """Answer this client's requests with the stand-in, if it is for one of `services`."""
    if service in services:
        client.meta.events.register_first("before-send", make_sender(client.meta.service_model), unique_id=unique_id)


@contextmanager
def every_session(services: Collection[str], make_sender: MakeSender) -> Iterator[None]:
    """For in-process moto tests, where no client hook exists: every botocore session made meanwhile sends
    these services to the stand-in (moto in-process would otherwise try the real endpoints)."""
    import botocore.session
    from botocore.handlers import BUILTIN_HANDLERS

    loader = botocore.session.get_session()
    specs = []
    for service in sorted(services):
        model = loader.get_service_model(service)
        specs.append((f"before-send.{model.service_id.hyphenize()}", make_sender(model)))
    BUILTIN_HANDLERS[:0] = specs
    try:
        yield
    finally:
        for spec in specs:
            BUILTIN_HANDLERS.remove(spec)
