"""The cache behind `Func.memoize()`: realizations kept across pipeline runs.

Compiled code calls two entry points (registered with `llvm.add_symbol`):

    i32 pl_memoize_lookup(i64* key, i32 nkey, i8** buffers, i64* sizes, i32 nbuf)
        1 and the cached contents copied into `buffers` on a hit, else 0
    void pl_memoize_store(i64* key, i32 nkey, i8** buffers, i64* sizes, i32 nbuf)

They are Python callbacks (ctypes takes the GIL, so calls from worker threads
are serialized). Entries are evicted least recently used first once the
cache holds more than `memoization_cache_size()` bytes (Halide's default is
1 MB, set with `set_memoization_cache_size`).
"""
from __future__ import annotations

import collections
import ctypes
import threading

import llvmlite.binding as llvm

_LOOKUP = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p,
                           ctypes.c_void_p, ctypes.c_int32)
_STORE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p,
                          ctypes.c_void_p, ctypes.c_int32)

_lock = threading.Lock()
_entries: collections.OrderedDict = collections.OrderedDict()   # key bytes -> [bytes per buffer]
_state = {"bytes": 0, "limit": 1 << 20, "registered": False}


def _unpack(key, nkey, buffers, sizes, nbuf):
    k = ctypes.string_at(key, 8 * nkey)
    ptrs = ctypes.cast(buffers, ctypes.POINTER(ctypes.c_void_p))
    lens = ctypes.cast(sizes, ctypes.POINTER(ctypes.c_int64))
    return k, [(ptrs[i], max(int(lens[i]), 0)) for i in range(nbuf)]


def _lookup(key, nkey, buffers, sizes, nbuf):
    k, bufs = _unpack(key, nkey, buffers, sizes, nbuf)
    with _lock:
        entry = _entries.get(k)
        if entry is None or [len(e) for e in entry] != [n for _, n in bufs]:
            return 0
        _entries.move_to_end(k)
        for (ptr, n), data in zip(bufs, entry):
            ctypes.memmove(ptr, data, n)
    return 1


def _store(key, nkey, buffers, sizes, nbuf):
    k, bufs = _unpack(key, nkey, buffers, sizes, nbuf)
    entry = [ctypes.string_at(ptr, n) for ptr, n in bufs]
    with _lock:
        old = _entries.pop(k, None)
        if old is not None:
            _state["bytes"] -= sum(map(len, old))
        _entries[k] = entry
        _state["bytes"] += sum(map(len, entry))
        _evict()


def _evict():
    while _state["bytes"] > _state["limit"] and len(_entries) > 1:
        _, old = _entries.popitem(last=False)
        _state["bytes"] -= sum(map(len, old))


_callbacks = (_LOOKUP(_lookup), _STORE(_store))   # kept alive for the process


def ensure_memoize_runtime() -> None:
    """Register the entry points before the first module that uses them is linked."""
    with _lock:
        if not _state["registered"]:
            for name, cb in zip(("pl_memoize_lookup", "pl_memoize_store"), _callbacks):
                llvm.add_symbol(name, ctypes.cast(cb, ctypes.c_void_p).value)
            _state["registered"] = True


def set_memoization_cache_size(nbytes: int) -> None:
    """Cap the memoization cache (Halide's `halide_memoization_cache_set_size`)."""
    with _lock:
        _state["limit"] = int(nbytes)
        _evict()


def memoization_cache_size() -> int:
    return _state["limit"]


def clear_memoization_cache() -> None:
    """Forget every cached realization (Halide's `halide_memoization_cache_cleanup`)."""
    with _lock:
        _entries.clear()
        _state["bytes"] = 0
