"""Where the costly stages run: here (the default) or on a Ray cluster.

The store stays single-writer: an executor only runs pure work — decode, segment, transcribe a
source from its evidence bytes — and hands the results back; the caller writes them in the
same transactions and audit rows as a local run, recording where each source ran.
Nothing about Ray is imported unless a Ray executor is asked for."""

from .executors import AudioJob, JobResult, LocalExecutor, executor_for, run_audio_job, where

__all__ = ["AudioJob", "JobResult", "LocalExecutor", "executor_for", "run_audio_job", "where"]
