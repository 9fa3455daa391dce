"""`mlready serve`: real-time scoring over HTTP with serve-batch's contract, scorer and output
columns, a hot-swapped model, an in-memory answer cache, Prometheus metrics, a latency SLA and an
online profile that check-drift reads."""

from mlready.http.app import Service, create_app
from mlready.http.background import BackgroundServer
from mlready.http.fast import FastPath
from mlready.http.model import ModelSlot, ServedModel, load_model
from mlready.http.scoring import RequestError

__all__ = [
    "BackgroundServer",
    "FastPath",
    "ModelSlot",
    "RequestError",
    "ServedModel",
    "Service",
    "create_app",
    "load_model",
]
