"""The seam to the project's on-disk compile cache (`pipelang.cache`) for CUBIN images.

Before that module exists (or with `PIPELANG_CACHE=0`) nothing is cached.
"""
from __future__ import annotations


def _cache():
    try:
        from pipelang.cache import default_cache
    except ImportError:
        return None
    return default_cache()


def get(key: str) -> bytes | None:
    cache = _cache()
    return cache.get(key) if cache is not None else None


def put(key: str, data: bytes) -> None:
    cache = _cache()
    if cache is not None:
        cache.put(key, data)
