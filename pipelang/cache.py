"""The on-disk compile cache: machine code kept across processes.

One policy for every backend. An entry is an opaque byte string stored
under a key (a SHA-256 hex digest of everything the bytes depend on); the
LLVM JIT stores object code and a JSON record through it, and any other
backend (CUDA modules, say) can use `get`/`put` the same way.

Where: `$PIPELANG_CACHE_DIR`, else `$XDG_CACHE_HOME/pipelang`, else
`~/.cache/pipelang`. `PIPELANG_CACHE=0` turns it off;
`PIPELANG_CACHE_MAX_SIZE` bounds it (bytes, or with a K/M/G suffix;
default 512M), least recently used entries going first.

Loading an entry runs its code, so the directory must be as trusted as
the code: it is created mode 0700, and a directory that is a symlink, is
owned by another user, or can be written by group or others is refused
(one warning, then compiling goes on without a cache). Nothing is pickled.

Entry file layout: magic `PLC1`, the payload's length (8 bytes, little
endian), its SHA-256 (32 bytes), the payload. A short, corrupt or foreign
file reads as a miss (and is removed), so it is compiled again, never
loaded. Writes go to a temporary file in the same directory and are
renamed into place, so a reader never sees half an entry.

Keeping the bound must not cost a scan of the directory per store (tens
of thousands of entries take a fifth of a second): a small index file,
`size-index`, holds the total size found by the last scan plus what was
stored since, and the number of stores since. A store adds its size there
(rewritten atomically) and scans, evicting, only when the total passes the
bound or after `RESCAN_EVERY` stores. Concurrent stores may lose each
other's increments; the periodic scan puts the figure right again.
A scan the bound forced evicts down to `LOW_WATER` of the bound, not just
under it: a full cache otherwise scanned on every store (100,000 entries,
1.3 s each) because each store passed the bound again.
"""
from __future__ import annotations

import functools
import hashlib
import os
import stat
import tempfile
import threading
import warnings

_MAGIC = b"PLC1"
_HEADER = len(_MAGIC) + 8 + 32
_SUFFIX = ".plc"
_INDEX = "size-index"
DEFAULT_MAX_BYTES = 512 << 20
RESCAN_EVERY = 1000
LOW_WATER = 0.8       # a scan the bound forced leaves this fraction of it



def _write_atomically(path: str, data: bytes) -> bool:
    """Write `data` to `path` through a temporary file in the same directory
    and a rename, so that a reader sees the old file or the whole new one.
    False (and nothing left behind) when the directory refuses."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path))
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return True
    except OSError:
        _remove(tmp)
        return False


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass

class CacheWarning(UserWarning):
    """The cache directory is unusable; compiling goes on without it."""


def make_key(*parts) -> str:
    """A cache key: the SHA-256 of `parts` (str or bytes), each length-prefixed."""
    h = hashlib.sha256()
    for p in parts:
        b = p if isinstance(p, bytes) else str(p).encode()
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= 128 and all(c.isalnum() or c in "-_" for c in key)


class CompileCache:
    """A directory of entries, each `get`/`put` by key."""

    def __init__(self, directory: str, max_bytes: int = DEFAULT_MAX_BYTES):
        self.directory = directory
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def _path(self, key: str) -> str:
        if not _valid_key(key):
            raise ValueError(f"bad cache key {key!r}: use letters, digits, '-' and '_'")
        return os.path.join(self.directory, key + _SUFFIX)

    def get(self, key: str) -> bytes | None:
        """The bytes stored under `key`, or None (absent, or corrupt: then removed)."""
        path = self._path(key)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            self.misses += 1
            return None
        try:
            with os.fdopen(fd, "rb") as f:
                data = f.read()
        except OSError:
            self.misses += 1
            return None
        payload = _unwrap(data)
        if payload is None:
            self._remove(path)
            self.misses += 1
            return None
        try:
            os.utime(path)              # recently used: evicted last
        except OSError:
            pass
        self.hits += 1
        return payload

    def put(self, key: str, payload: bytes) -> None:
        """Store `payload` under `key` (atomically); past the bound, evict
        least recently used entries (see the size index in the module docstring)."""
        path = self._path(key)
        data = _MAGIC + len(payload).to_bytes(8, "little") + hashlib.sha256(payload).digest() + payload
        if _write_atomically(path, data):
            self._account(len(data))

    def _account(self, added: int) -> None:
        """Add `added` bytes to the size index; scan once when the total
        passes the bound (evicting down to `LOW_WATER` of it), the index is
        missing or unreadable, or `RESCAN_EVERY` stores have gone by since the
        last scan (evicting down to the bound)."""
        with self._lock:
            index = self._read_index()
            if index is not None:
                total, stores = index[0] + added, index[1] + 1
                if total <= self.max_bytes and stores < RESCAN_EVERY:
                    self._write_index(total, stores)
                    return
                if total > self.max_bytes:
                    self._evict_locked(int(self.max_bytes * LOW_WATER))
                    return
            self._evict_locked(self.max_bytes)

    def _read_index(self):
        try:
            with open(os.path.join(self.directory, _INDEX), "rb") as f:
                total, stores = f.read(64).split()
            return int(total), int(stores)
        except (OSError, ValueError):
            return None

    def _write_index(self, total: int, stores: int) -> None:
        _write_atomically(os.path.join(self.directory, _INDEX), b"%d %d\n" % (total, stores))

    def evict(self, max_bytes: int | None = None) -> None:
        """Remove least recently used entries until the total is at most
        `max_bytes` (default: the cache's bound)."""
        with self._lock:
            self._evict_locked(self.max_bytes if max_bytes is None else max_bytes)

    def _evict_locked(self, limit: int) -> None:
        """Scan every entry, remove the least recently used down to `limit`,
        and record the total left in the size index."""
        entries, total = [], 0
        try:
            scan = list(os.scandir(self.directory))
        except OSError:
            return
        for e in scan:
            if not e.name.endswith(_SUFFIX):
                continue
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            entries.append((st.st_mtime_ns, st.st_size, e.path))
            total += st.st_size
        if total > limit:
            entries.sort()
            for _, size, path in entries:
                if total <= limit:
                    break
                self._remove(path)
                total -= size
        self._write_index(total, 0)

    def clear(self) -> None:
        self.evict(0)

    def size_bytes(self) -> int:
        try:
            return sum(e.stat(follow_symlinks=False).st_size for e in os.scandir(self.directory)
                       if e.name.endswith(_SUFFIX))
        except OSError:
            return 0

    _remove = staticmethod(_remove)


def _unwrap(data: bytes) -> bytes | None:
    if len(data) < _HEADER or not data.startswith(_MAGIC):
        return None
    n = int.from_bytes(data[4:12], "little")
    payload = data[_HEADER:]
    if len(payload) != n or hashlib.sha256(payload).digest() != data[12:_HEADER]:
        return None
    return payload


# ------------------------------------------------------------ the default cache

def _parse_size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    if scale != 1:
        text = text[:-1]
    return int(float(text) * scale)


def default_directory() -> str:
    explicit = os.environ.get("PIPELANG_CACHE_DIR")
    if explicit:
        return os.path.abspath(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pipelang")


def _usable(directory: str) -> str | None:
    """Create `directory` (mode 0700) if needed; None if it is safe to use, else why not."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        st = os.lstat(directory)
    except OSError as e:
        return f"it can't be created ({e.strerror})"
    if stat.S_ISLNK(st.st_mode):
        return "it is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"it is owned by another user (uid {st.st_uid})"
    if st.st_mode & 0o022:
        return f"group or others can write to it (mode {stat.S_IMODE(st.st_mode):o}); chmod 700 it"
    return None


_state: dict = {}


def default_cache() -> CompileCache | None:
    """The per-user cache the environment asks for, or None when it is off or
    unusable. Re-read when the environment variables change (for tests)."""
    if os.environ.get("PIPELANG_CACHE", "1").strip().lower() in ("0", "false", "off", "no"):
        return None
    directory = default_directory()
    max_text = os.environ.get("PIPELANG_CACHE_MAX_SIZE", "")
    config = (directory, max_text)
    if _state.get("config") != config:
        # The cache first, then what it is for: another thread compiling
        # meanwhile must not find the new configuration without its cache.
        _state["cache"] = _open(directory, max_text)
        _state["config"] = config
    return _state["cache"]


def _open(directory: str, max_text: str) -> CompileCache | None:
    why = _usable(directory)
    if why is not None:
        warnings.warn(f"pipelang: not using the compile cache at {directory}: {why}. "
                      f"Set PIPELANG_CACHE_DIR to a directory of your own, or PIPELANG_CACHE=0.",
                      CacheWarning, stacklevel=3)
        return None
    try:
        max_bytes = _parse_size(max_text) if max_text else DEFAULT_MAX_BYTES
    except ValueError:
        warnings.warn(f"pipelang: PIPELANG_CACHE_MAX_SIZE={max_text!r} is not a size; "
                      f"using {DEFAULT_MAX_BYTES >> 20}M", CacheWarning, stacklevel=3)
        max_bytes = DEFAULT_MAX_BYTES
    return CompileCache(directory, max_bytes)


@functools.cache
def source_digest() -> str:
    """SHA-256 of pipelang's own source: any edit to the compiler invalidates
    every entry, released version or not.

    Reading and hashing every file costs a fresh process tens of
    milliseconds (most of a cache hit), so the digest is also kept in the
    cache directory beside the files' sizes and modification times, and
    recomputed only when one of those changed."""
    cache = _state.get("cache")
    return _tree_digest(os.path.dirname(os.path.abspath(__file__)),
                        os.path.join(cache.directory, "source-digest") if cache is not None else None)


def _tree_digest(root: str, memo: str | None) -> str:
    """SHA-256 of the .py files under `root` (their relative paths and
    contents; not __pycache__, bench or testing), kept in the file `memo`
    beside a stamp of their paths, sizes and modification times."""
    paths, parts = [], []           # (path, relative path); the stamp's parts

    def walk(directory: str, relative: str) -> None:
        # (os.scandir's entries tell directories without a stat and give the
        # path: half os.walk's time, which was most of this function's.)
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            name = e.name
            if name.endswith(".py"):
                st = e.stat()
                paths.append((e.path, relative + name))
                parts.append(f"{relative}{name}\0{st.st_size}\0{st.st_mtime_ns}\0")
            elif name not in ("__pycache__", "bench", "testing") and e.is_dir(follow_symlinks=False):
                walk(e.path, relative + name + "/")

    walk(root, "")
    stamp = hashlib.sha256("".join(parts).encode()).hexdigest()
    if memo is not None:
        try:
            with open(memo, "rb") as f:
                saved_stamp, digest = f.read(200).decode().split()
            if saved_stamp == stamp and len(digest) == 64:
                return digest
        except (OSError, ValueError, UnicodeDecodeError):
            pass
    h = hashlib.sha256()
    for path, relative in paths:
        h.update(relative.encode() + b"\0")
        with open(path, "rb") as f:
            h.update(f.read())
    digest = h.hexdigest()
    if memo is not None:
        _write_atomically(memo, f"{stamp} {digest}\n".encode())
    return digest


@functools.cache
def toolchain_key() -> str:
    """Everything besides the program that compiled code depends on: pipelang's
    version and source, llvmlite's and LLVM's versions, the host triple, CPU
    name and features."""
    import llvmlite
    import llvmlite.binding as llvm
    from pipelang import __version__
    from pipelang.backends.llvm.jit import host_description
    return make_key("pipelang", __version__, source_digest(), "llvmlite", llvmlite.__version__,
                    ".".join(map(str, llvm.llvm_version_info)), *host_description())
