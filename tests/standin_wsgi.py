"""The guardrail stand-in over HTTP, for programs that are not aws-harden (Prowler in the conformance run) and
for aws-harden pointed at a plain --endpoint-url (the benchmark, the conformance run): a WSGI wrapper around
moto's app that answers Access Analyzer, Free Tier and GetContactInformation from the stand-in and passes
everything else on. The sandbox itself hooks its clients instead (wizard/sandbox/guardrail_standin.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from wizard.sandbox.guardrail_standin import CREDENTIAL_SCOPE, GuardrailStandIn

# The signing name in a request's credential scope -> the botocore service the stand-in answers for.
SIGNING_NAMES = {"access-analyzer": "accessanalyzer", "freetier": "freetier", "account": "account"}


class StandInApp:
    def __init__(self, app: Callable[..., Iterable[bytes]], standin: GuardrailStandIn) -> None:
        import botocore.session

        self.app = app
        self.standin = standin
        loader = botocore.session.get_session()
        self.models = {name: loader.get_service_model(service) for name, service in SIGNING_NAMES.items()}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        import json

        scope = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        model = self.models.get(scope.group("service")) if scope else None
        if model is None:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {re.sub(r"^HTTP_", "", k).replace("_", "-").title(): v for k, v in environ.items()
                   if k.startswith("HTTP_")}
        headers["Authorization"] = environ.get("HTTP_AUTHORIZATION", "")
        if "HTTP_X_AMZ_TARGET" in environ:
            headers["X-Amz-Target"] = environ["HTTP_X_AMZ_TARGET"]
        query = environ.get("QUERY_STRING", "")
        url = f"http://{environ.get('HTTP_HOST', 'localhost')}{environ.get('PATH_INFO', '/')}" + (
            f"?{query}" if query else "")
        found = self.standin.answer_http(model, environ["REQUEST_METHOD"], url, headers, body)
        if found is None:  # an account call the stand-in does not answer (alternate contacts): moto's
            import io

            environ["wsgi.input"] = io.BytesIO(body)
            return self.app(environ, start_response)
        status, answer = found
        reply = [("Content-Type", "application/json")]
        if status >= 300:
            reply.append(("x-amzn-ErrorType", str(answer["__type"])))
        start_response(f"{status} {'OK' if status < 300 else 'Error'}", reply)
        return [json.dumps(answer).encode()]


def serve(standin: GuardrailStandIn, wrap: Callable[[Any], Any] = lambda app: app) -> tuple[Any, str]:
    """moto's app with the stand-in in front, on 127.0.0.1 (a free port), in a thread; `wrap` may add
    middleware outside it (the benchmark's delay). Returns (server, its URL with 'localhost')."""
    import threading

    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = wrap(StandInApp(DomainDispatcherApplication(create_backend_app), standin))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://localhost:{server.server_address[1]}"
