"""A local stand-in for the upstreams the gateway calls: OpenAI-, Anthropic-, Gemini-, Bedrock
Converse- and Ollama-shaped chat APIs, OpenAI- and Ollama-shaped embeddings APIs, Presidio's
analyzer and anonymizer, and for Bedrock's workload identities AWS STS's web identity exchange
and EKS Pod Identity's credentials agent. It records every request it is sent and answers with
fixed token usage, so budgets can be crossed on purpose. Loopback only."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

USAGE_IN = 100_000
USAGE_OUT = 50_000
FAILING_MODEL = "gpt-4.1"  # the stand-in answers 500 for it, so fallbacks are exercised
PII_WORD = "Alice"  # the analyzer "finds" this PERSON; every other text is clean
MISSING_OLLAMA_MODEL = "mistral:7b"  # the stand-in Ollama answers 404 "not found" for it, as Ollama does
EMBEDDING_TOKENS = 1_000  # prompt tokens the stand-in reports per embedded text
# What EKS Pod Identity's node agent answers (botocore's ContainerProvider reads these keys).
CREDENTIALS_PATH = "/v1/credentials"
CONTAINER_CREDENTIALS = {
    "AccessKeyId": "ASIAE2EPODIDENTITY",
    "SecretAccessKey": "e2e-pod-identity-secret",
    "Token": "e2e-pod-identity-session-token",
    "Expiration": "2099-01-01T00:00:00Z",
}
# What AWS STS answers IRSA's AssumeRoleWithWebIdentity with.
WEB_IDENTITY_CREDENTIALS = {
    "AccessKeyId": "ASIAE2EIRSAWEBID",
    "SecretAccessKey": "e2e-irsa-secret",
    "Token": "e2e-irsa-session-token",
    "Expiration": "2099-01-01T00:00:00Z",
}


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any


class StandIn:
    def __init__(self, port: int = 0) -> None:
        """Listens from here on, on `port` (any free one by default)."""
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def take(self) -> list[Recorded]:
        with self._lock:
            found, self.requests = self.requests, []
        return found

    def _record(self, item: Recorded) -> None:
        with self._lock:
            self.requests.append(item)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}  # AWS STS's query protocol
                    standin._record(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, form))
                    self._answer(*sts(form), "text/xml")
                    return
                body = json.loads(raw or b"null")
                standin._record(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status, answer = respond(self.path.split("?", 1)[0], body)
                self._answer(status, json.dumps(answer).encode(), "application/json")

            def _answer(self, status: int, data: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # EKS Pod Identity's agent: GET with the pod's token
                found = self.path == CREDENTIALS_PATH
                if found:  # other GETs (the proxy's own model listings) are no upstream call a test counts
                    standin._record(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, None))
                answer = CONTAINER_CREDENTIALS if found else {"error": f"no such path {self.path}"}
                self._answer(200 if found else 404, json.dumps(answer).encode(), "application/json")

        return Handler


def sts(form: dict[str, str]) -> tuple[int, bytes]:
    """AWS STS's AssumeRoleWithWebIdentity (IRSA: botocore trades the pod's projected token)."""
    if form.get("Action") != "AssumeRoleWithWebIdentity":
        return 400, b"<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>"
    c = WEB_IDENTITY_CREDENTIALS
    return 200, (
        '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<AssumeRoleWithWebIdentityResult><Credentials>"
        f"<AccessKeyId>{c['AccessKeyId']}</AccessKeyId><SecretAccessKey>{c['SecretAccessKey']}</SecretAccessKey>"
        f"<SessionToken>{c['Token']}</SessionToken><Expiration>{c['Expiration']}</Expiration>"
        "</Credentials>"
        f"<AssumedRoleUser><Arn>{form.get('RoleArn', '')}/e2e</Arn><AssumedRoleId>AROAE2E:e2e</AssumedRoleId></AssumedRoleUser>"
        "</AssumeRoleWithWebIdentityResult>"
        "<ResponseMetadata><RequestId>e2e</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>"
    ).encode()


def respond(path: str, body: Any) -> tuple[int, Any]:
    if path.endswith("/chat/completions"):
        if body.get("model") == FAILING_MODEL:
            return 500, {"error": {"message": "stand-in failure", "type": "server_error"}}
        return 200, _openai(body)
    if path.endswith("/embeddings"):
        return 200, _openai_embeddings(body)
    if path.endswith("/api/embed"):
        texts = _texts(body.get("input"))
        return 200, {"model": body.get("model"), "embeddings": [vector(t) for t in texts], "prompt_eval_count": EMBEDDING_TOKENS * len(texts)}
    if path.endswith("/v1/messages"):
        return 200, _anthropic(body)
    if path.endswith("/converse"):  # Bedrock: {api_base}/model/{url-quoted model id}/converse
        return 200, _converse()
    if path.endswith(":generateContent"):  # the Gemini API: {api_base}/models/{model}:generateContent
        return 200, _gemini()
    if path.endswith("/api/chat"):
        if body.get("model") == MISSING_OLLAMA_MODEL:
            return 404, {"error": f'model "{MISSING_OLLAMA_MODEL}" not found, try pulling it first'}
        return 200, _ollama(body)
    if path.endswith("/analyze"):
        text = body.get("text", "")
        start = text.find(PII_WORD)
        if start < 0:
            return 200, []
        return 200, [{"entity_type": "PERSON", "start": start, "end": start + len(PII_WORD), "score": 0.9}]
    if path.endswith("/anonymize"):
        text = body.get("text", "")
        return 200, {"text": text.replace(PII_WORD, "<PERSON>"), "items": []}
    return 404, {"error": f"no such path {path}"}


def _openai(body: Any) -> Any:
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "created": 1700000000,
        "model": body.get("model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": USAGE_IN, "completion_tokens": USAGE_OUT, "total_tokens": USAGE_IN + USAGE_OUT},
    }


def _texts(given: Any) -> list[Any]:
    return given if isinstance(given, list) else [given]


def vector(text: Any) -> list[float]:
    """A small vector that differs per text, so an answer shows which text it embeds."""
    return [float(len(str(text))), float(sum(map(ord, str(text))) % 997), 0.5]


def _openai_embeddings(body: Any) -> Any:
    texts = _texts(body.get("input"))
    return {
        "object": "list",
        "model": body.get("model"),
        "data": [{"object": "embedding", "index": i, "embedding": vector(t)} for i, t in enumerate(texts)],
        "usage": {"prompt_tokens": EMBEDDING_TOKENS * len(texts), "total_tokens": EMBEDDING_TOKENS * len(texts)},
    }


def _anthropic(body: Any) -> Any:
    return {
        "id": "msg_standin",
        "type": "message",
        "role": "assistant",
        "model": body.get("model"),
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": USAGE_IN, "output_tokens": USAGE_OUT},
    }


def _gemini() -> Any:
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": USAGE_IN, "candidatesTokenCount": USAGE_OUT, "totalTokenCount": USAGE_IN + USAGE_OUT},
    }


def _converse() -> Any:
    """Bedrock's Converse answer (botocore's bedrock-runtime ConverseResponse)."""
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": USAGE_IN, "outputTokens": USAGE_OUT, "totalTokens": USAGE_IN + USAGE_OUT},
        "metrics": {"latencyMs": 1},
    }


def _ollama(body: Any) -> Any:
    return {
        "model": body.get("model"),
        "created_at": "2026-11-25T00:00:00Z",
        "message": {"role": "assistant", "content": "ok"},
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 10,
        "eval_count": 5,
    }
