"""Executors: a local one (today's behaviour) and one over a Ray cluster, with one job type.

A job is one audio source (its evidence as a path on storage the worker shares, or as bytes
through Ray's object store), the decoding options, and where to resume; its result is the list
of processed transmissions, or the error that stopped the source, and the node it ran on."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator


@dataclass
class AudioJob:
    source_id: int
    name: str                          # the original file name (for messages)
    sha256: str
    suffix: str                        # the original's suffix, for the decoder
    mode: str                          # radio | call
    lang: str | None
    model: str | None
    whisper_gloss: bool
    skip_until_s: float
    transcribe: object                 # TranscribeOptions
    cpu_threads: int = 0               # 0: every core the worker may use
    path: str | None = None            # evidence readable by the worker (shared storage)
    data: object = field(default=None, repr=False)   # else the evidence bytes (or an object-store ref)


@dataclass
class JobResult:
    source_id: int
    transmissions: list                # ProcessedTransmission, in time order
    error: str | None = None           # what stopped the source (what came before it is kept)
    node: str = ""                     # where it ran: "local:<host>" or "ray:<node id>"
    wall_s: float = 0.0
    attempts: int = 1


def where() -> str:
    """This process's place: the Ray node id inside a Ray worker, else the host name."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        try:
            return "ray:" + ray.get_runtime_context().get_node_id()
        except Exception:   # not inside a task/actor
            pass
    return "local:" + socket.gethostname()


def run_audio_job(job: AudioJob) -> JobResult:
    """Decode, segment and transcribe one source (runs on whichever executor took the job)."""
    from ..audio.decode import AudioDecodeError
    from ..audio.model import load_model
    from ..audio.pipeline import PipelineOptions, process_audio

    started = time.perf_counter()
    tmp = None
    path = job.path
    if path is None or not Path(path).is_file():
        data = job.data
        if data is None:
            return JobResult(job.source_id, [], f"evidence {job.sha256[:12]} is not readable on {where()}",
                             where(), 0.0)
        tmp = tempfile.NamedTemporaryFile(suffix=job.suffix, delete=False)
        tmp.write(data)
        tmp.close()
        path = tmp.name
    out: list = []
    error = None
    try:
        lm = load_model(job.model, cpu_threads=job.cpu_threads)
        opts = PipelineOptions(mode=job.mode, transcribe=job.transcribe, cpu_threads=job.cpu_threads)
        for tx in process_audio(path, mode=job.mode, lang=job.lang, model=lm, gloss=job.whisper_gloss,
                                skip_until_s=job.skip_until_s, options=opts):
            out.append(tx)
    except AudioDecodeError as exc:
        error = getattr(exc, "problem", None) or str(exc)
    finally:
        if tmp is not None:
            os.unlink(tmp.name)
    return JobResult(job.source_id, out, error, where(), time.perf_counter() - started)


class LocalExecutor:
    """Jobs one after another in this process (what `overheard process` does without --ray)."""
    name = "local"

    def __init__(self, threads_per_job: int = 0):
        self.threads_per_job = threads_per_job       # 0: every core

    def describe(self) -> dict:
        return {"executor": "local", "node": where()}

    def evidence_shared(self) -> bool:
        return True

    def map(self, fn: Callable, jobs: Iterable) -> Iterator:
        for job in jobs:
            yield fn(job)

    def close(self) -> None:
        pass


class RayExecutor:
    """Jobs as Ray tasks, results as they complete. ``address``: ``auto`` (a running cluster
    found on this machine), ``ray://host:port`` (Ray Client), ``host:port`` (a head node's GCS),
    or ``local`` (start a Ray instance in this process for this run)."""
    name = "ray"

    threads_per_job = 1            # one Whisper thread per task: a task per core

    def __init__(self, address: str = "auto", *, cpus_per_job: float = 1.0, max_retries: int = 2):
        try:
            import ray
        except ImportError:
            raise RuntimeError("--ray needs Ray: pip install 'overheard[ray]'") from None
        self.ray, self.address = ray, address
        self.cpus_per_job, self.max_retries = cpus_per_job, max_retries
        kw = dict(ignore_reinit_error=True, log_to_driver=False, include_dashboard=False,
                  namespace="overheard")
        try:
            if address == "local":
                ray.init(**kw)
            else:
                ray.init(address=address, **kw)
        except Exception as exc:   # ConnectionError, ValueError, RuntimeError from ray.init
            raise RuntimeError(f"--ray {address}: cannot join the cluster ({type(exc).__name__}: "
                               f"{str(exc).splitlines()[0] if str(exc) else exc})") from None
        self._owns = address == "local"

    def nodes(self) -> list[dict]:
        return [n for n in self.ray.nodes() if n.get("Alive")]

    def describe(self) -> dict:
        nodes = self.nodes()
        return {"executor": "ray", "address": self.address, "ray_version": self.ray.__version__,
                "nodes": len(nodes), "cpus": sum(n.get("Resources", {}).get("CPU", 0) for n in nodes),
                "evidence": "shared path" if self.evidence_shared() else "object store"}

    def evidence_shared(self) -> bool:
        """Every node on this machine: workers read the evidence folder directly; otherwise the
        bytes travel through Ray's object store."""
        here = self.ray.util.get_node_ip_address()
        return all(n.get("NodeManagerAddress") == here for n in self.nodes())

    def put(self, data: bytes):
        return self.ray.put(data)

    def map(self, fn: Callable, jobs: Iterable) -> Iterator:
        ray = self.ray
        remote = ray.remote(num_cpus=self.cpus_per_job, max_retries=self.max_retries,
                            retry_exceptions=False)(_call)
        pending = {}
        for job in jobs:
            if job.data is not None and not isinstance(job.data, ray.ObjectRef):
                job = replace(job, data=ray.put(job.data))
            pending[remote.remote(fn, job)] = job
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                job = pending.pop(ref)
                try:
                    yield ray.get(ref)
                except ray.exceptions.RayTaskError as exc:      # the job itself raised: not retried
                    cause = getattr(exc, "cause", None) or exc
                    yield JobResult(job.source_id, [], f"{type(cause).__name__}: {str(cause)[:300]}", "ray")
                except ray.exceptions.RayError as exc:          # its worker or node died, each retry too
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                    yield JobResult(job.source_id, [], f"lost on the cluster after {self.max_retries + 1} "
                                                       f"attempt(s): {type(exc).__name__} {first[:200]}", "ray")

    def close(self) -> None:
        if self._owns and self.ray.is_initialized():
            self.ray.shutdown()


def _call(fn, job):
    # a job's data may be an object-store reference: Ray resolves top-level arguments only
    ray = sys.modules.get("ray")
    if ray is not None and isinstance(job.data, ray.ObjectRef):
        job = replace(job, data=ray.get(job.data))
    return fn(job)


def executor_for(spec: str | None):
    """``None``: the local executor; otherwise a Ray executor for the address ``spec``."""
    if spec is None:
        return LocalExecutor()
    return RayExecutor(spec or "auto")
