"""Backends: turn a `LoweredFunc` into something callable."""
from pipelang.backends.base import Backend, CompiledFunction

__all__ = ["Backend", "CompiledFunction"]
