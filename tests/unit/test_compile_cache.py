"""The on-disk compile cache (pipelang/cache.py) and its use by Pipeline."""
import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import pipelang as hl
from pipelang import cache as C

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A pipeline with an input, a Param, a RoundUp split (realize(sizes) must grow the
# output, which reads the regions kept beside the code) and a runtime check.
PROGRAM = textwrap.dedent("""
    import json, sys
    import numpy as np
    import pipelang as hl
    x, y, xi = hl.Var("x"), hl.Var("y"), hl.Var("xi")
    a = np.arange(40 * 30, dtype=np.float32).reshape(30, 40)
    inp = hl.ImageParam(hl.Float(32), 2, "inp")
    gain = hl.Param(hl.Float(32), "gain", 2.0)
    f, g = hl.Func("f"), hl.Func("g")
    f[x, y] = inp[x, y] * gain
    g[x, y] = f[x, y] + f[x + 1, y]
    g.split(x, x, xi, 8, hl.TailStrategy.RoundUp).vectorize(xi)
    f.compute_at(g, x)
    inp.set(a)
    p = hl.Pipeline(g)
    p.compile_jit()
    out = np.asarray(p.realize([20, 10]))
    ref = (a[:10, :20] + a[:10, 1:21]) * 2
    small = np.zeros((2, 2), np.float32)
    inp.set(small)
    try:
        p.realize([20, 10])
        error = ""
    except hl.HalideError as e:
        error = type(e).__name__
    print(json.dumps({"hit": p._compiled.cache_hit, "ok": bool(np.array_equal(out, ref)),
                      "error": error}))
""")


def _run(env_extra) -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT, **env_extra)
    out = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _entries(d):
    return sorted(n for n in os.listdir(d) if n.endswith(".plc"))


def test_second_process_hits_and_corrupt_entries_recompile(tmp_path):
    env = {"PIPELANG_CACHE_DIR": str(tmp_path / "c"), "PIPELANG_CACHE": "1"}
    first = _run(env)
    assert first == {"hit": False, "ok": True, "error": "PipelineRuntimeError"}
    d = tmp_path / "c"
    assert oct(os.stat(d).st_mode & 0o777) == "0o700"
    names = _entries(d)
    assert len(names) >= 2            # the pipeline's record and its object code
    assert _run(env) == {"hit": True, "ok": True, "error": "PipelineRuntimeError"}
    # Truncate every entry: each is detected, dropped and compiled again.
    for n in names:
        with open(d / n, "r+b") as f:
            f.truncate(os.path.getsize(d / n) // 2)
    assert _run(env) == {"hit": False, "ok": True, "error": "PipelineRuntimeError"}
    assert _run(env)["hit"] is True


def test_off_switch(tmp_path):
    d = tmp_path / "c"
    assert _run({"PIPELANG_CACHE_DIR": str(d), "PIPELANG_CACHE": "0"})["hit"] is False
    assert not d.exists()


def test_put_get_and_checksum(tmp_path):
    c = C.CompileCache(str(tmp_path))
    key = C.make_key("cuda", b"\x00ptx")
    assert c.get(key) is None
    c.put(key, b"module bytes")
    assert c.get(key) == b"module bytes"
    path = tmp_path / (key + ".plc")
    data = bytearray(path.read_bytes())
    data[-1] ^= 1                      # one flipped bit in the payload
    path.write_bytes(bytes(data))
    assert c.get(key) is None and not path.exists()
    with pytest.raises(ValueError, match="bad cache key"):
        c.get("../escape")
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")]


def test_lru_eviction(tmp_path):
    c = C.CompileCache(str(tmp_path), max_bytes=12_000)
    keys = [C.make_key(i) for i in range(4)]
    for i, k in enumerate(keys):
        c.put(k, bytes(3000))
        os.utime(tmp_path / (k + ".plc"), ns=(i * 10**9, i * 10**9))
    # Four 3 KB entries exceed 12 KB: the least recently used went first, down
    # to LOW_WATER of the bound.
    assert len(_entries(tmp_path)) == 3 and c.get(keys[0]) is None
    assert c.size_bytes() <= 12_000 * C.LOW_WATER
    c.get(keys[1])                     # now the most recently used
    c.put(C.make_key("new"), bytes(3000))
    assert c.get(keys[1]) is not None and c.get(keys[2]) is None
    assert c.size_bytes() <= 12_000


def test_a_full_cache_does_not_scan_on_every_store(tmp_path, monkeypatch):
    # At the bound, each store used to pass it again and scan the whole
    # directory; evicting down to LOW_WATER leaves room for many stores.
    scans = []
    real_scandir = os.scandir
    monkeypatch.setattr(C.os, "scandir", lambda d: scans.append(d) or real_scandir(d))
    c = C.CompileCache(str(tmp_path), max_bytes=100_000)
    for i in range(200):               # 200 * 1044 bytes: twice the bound
        c.put(C.make_key("entry", i), bytes(1000))
    assert c.size_bytes() <= 100_000
    assert len(scans) <= 1 + 200 * 1044 // (100_000 * (1 - C.LOW_WATER))


def test_unsafe_directories_are_refused(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    monkeypatch.setenv("PIPELANG_CACHE", "1")
    monkeypatch.setenv("PIPELANG_CACHE_DIR", str(shared))
    with pytest.warns(C.CacheWarning, match="group or others can write"):
        assert C.default_cache() is None
    link = tmp_path / "link"
    os.symlink(tmp_path / "real", link, target_is_directory=True)
    (tmp_path / "real").mkdir(mode=0o700)
    monkeypatch.setenv("PIPELANG_CACHE_DIR", str(link))
    with pytest.warns(C.CacheWarning, match="symbolic link"):
        assert C.default_cache() is None
    if os.getuid() == 0:
        other = tmp_path / "other"
        other.mkdir(mode=0o700)
        os.chown(other, 12345, 12345)
        monkeypatch.setenv("PIPELANG_CACHE_DIR", str(other))
        with pytest.warns(C.CacheWarning, match="owned by another user"):
            assert C.default_cache() is None
    # Refused means compiled without a cache, not an error.
    monkeypatch.setenv("PIPELANG_CACHE_DIR", str(shared))
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] = x * 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.CacheWarning)
        assert list(np.asarray(f.realize([4]))) == [0, 3, 6, 9]
    assert _entries(shared) == []


def test_schedule_is_part_of_the_key_and_a_hit_still_gives_ir(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELANG_CACHE", "1")
    monkeypatch.setenv("PIPELANG_CACHE_DIR", str(tmp_path))
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] = x * 2 + 1
    p = hl.Pipeline(f)
    p.compile_jit()
    assert p._compiled.cache_hit is False
    q = hl.Pipeline(f)                 # the same Funcs: the same code
    q.compile_jit()
    assert q._compiled.cache_hit is True
    f.vectorize(x, 4)                  # a new schedule: a new key
    r = hl.Pipeline(f)
    r.compile_jit()
    assert r._compiled.cache_hit is False
    assert list(np.asarray(r.realize([8]))) == [2 * i + 1 for i in range(8)]
    s = hl.Pipeline(f)
    s.compile_jit()
    assert s._compiled.cache_hit is True
    # A hit still gives the lowered statement and LLVM IR when asked.
    assert "ramp" in s.lowered_stmt() and "define" in s.llvm_ir()


def test_stores_keep_a_size_index_instead_of_scanning(tmp_path, monkeypatch):
    # A store scans the directory only when the index is missing, the bound is
    # passed, or RESCAN_EVERY stores have gone by; the bound still holds.
    scans = []
    real_scandir = os.scandir
    monkeypatch.setattr(C.os, "scandir", lambda d: scans.append(d) or real_scandir(d))
    monkeypatch.setattr(C, "RESCAN_EVERY", 10)
    c = C.CompileCache(str(tmp_path), max_bytes=100_000)
    for i in range(25):
        c.put(C.make_key("small", i), bytes(100))
    assert len(scans) == 3                 # the first store, then after 10 and 20 more
    assert (tmp_path / "size-index").read_text().split() == [str(25 * 144), "4"]
    (tmp_path / "size-index").write_text("garbage")
    c.put(C.make_key("one more"), bytes(100))
    assert len(scans) == 4                 # an unreadable index: scanned again
    for i in range(40):                    # 40 * 3044 bytes pass the bound
        c.put(C.make_key("big", i), bytes(3000))
    assert c.size_bytes() <= 100_000
    assert int((tmp_path / "size-index").read_text().split()[0]) == c.size_bytes()


def test_region_expressions_with_named_bounds_are_kept():
    # Bounds inference names large bounds with Lets of fresh symbols; the
    # regions stored beside the code encode those as local symbols (they made
    # every such pipeline, harris for one, uncacheable).
    from pipelang import fingerprint, ir
    from pipelang.lowering.names import buffer as buffer_of
    x = hl.Var("x")
    f = hl.Func("fp_named")
    f[x] = x
    p = hl.Pipeline(f)
    p.compile_jit()
    c = p._compiled
    fp = fingerprint.pipeline(c.env_functions, c.outputs, c.arguments, c.name)
    mn = ir.Variable(ir.Int(32), ir.buffer_min(buffer_of(c.outputs[0], 0), 0))
    t = ir.Symbol("fp_named.s0.x.min.6")
    tv = ir.Variable(ir.Int(32), t)
    e = ir.Let(t, ir.Add(mn, ir.i32(3)), ir.Mul(tv, tv))
    (back,) = fp.decode_exprs(json.loads(json.dumps(fp.encode_exprs([e]))))
    assert isinstance(back, ir.Let) and back.sym is not t and back.sym.name == t.name
    assert back.body == ir.Mul(ir.Variable(ir.Int(32), back.sym), ir.Variable(ir.Int(32), back.sym))
    assert back.value == e.value


def test_source_digest_is_kept_beside_the_files_stamp(tmp_path, monkeypatch):
    # A fresh process reads the digest of pipelang's source from the cache
    # directory while the files' sizes and times are unchanged; a record for
    # other stamps is ignored and replaced.
    monkeypatch.setitem(C._state, "cache", C.CompileCache(str(tmp_path)))
    real = C.source_digest.__wrapped__()
    stamp, digest = (tmp_path / "source-digest").read_text().split()
    assert digest == real
    (tmp_path / "source-digest").write_text(f"{'0' * 64} {'1' * 64}\n")
    assert C.source_digest.__wrapped__() == real
    assert (tmp_path / "source-digest").read_text().split() == [stamp, real]


def test_the_source_digest_covers_the_py_files_and_follows_edits(tmp_path):
    root = tmp_path / "pkg"
    for rel in ("a.py", "sub/b.py", "sub/__pycache__/c.py", "bench/d.py", "notes.txt"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x = 1\n")
    memo = str(tmp_path / "memo")
    base = C._tree_digest(str(root), memo)
    assert C._tree_digest(str(root), None) == base
    # Files the digest leaves out change nothing.
    for rel in ("sub/__pycache__/c.py", "bench/d.py", "notes.txt"):
        (root / rel).write_text("x = 2\n")
    assert C._tree_digest(str(root), memo) == base
    # An edit of a covered file, even one keeping its size, changes it (its
    # modification time changes the stamp, so the kept digest is not used).
    (root / "sub/b.py").write_text("x = 2\n")
    os.utime(root / "sub/b.py", ns=(1, 1))
    edited = C._tree_digest(str(root), memo)
    assert edited != base and edited == C._tree_digest(str(root), None)
    (root / "sub/e.py").write_text("")
    assert C._tree_digest(str(root), memo) not in (base, edited)


def test_the_fingerprint_digest_is_kept_until_more_is_added():
    from pipelang import fingerprint
    fp = fingerprint.Fingerprint()
    fp.add("one")
    first = fp.digest()
    assert fp.digest() == first
    fp.add(2)
    again = fingerprint.Fingerprint()
    again.add("one")
    again.add(2)
    assert fp.digest() != first and fp.digest() == again.digest()


def test_loaded_object_code_runs(tmp_path):
    # Object code from the cache is handed to a new MCJIT engine as its empty
    # module's compiled form (no code generation): it must link and run.
    import ctypes
    from pipelang.backends.llvm import jit
    text = """
        define i32 @plus_one(i32 %x) {
          %y = add i32 %x, 1
          ret i32 %y
        }"""
    c = C.CompileCache(str(tmp_path))
    code, ir_text, key = jit.compile_module(text, "m", cache=c)
    assert ir_text is not None and c.get(key) is not None
    loaded, ir_text, _ = jit.compile_module(text, "m", cache=c)
    assert ir_text is None                     # a hit: loaded, not compiled
    for compiled in (code, loaded):
        address = compiled.engine.get_function_address("plus_one")
        assert ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_int32)(address)(41) == 42
    loaded.close()
    # A closed engine frees the copy of the object it was handed, its target
    # machine and context (3,000 loads: 0.02 MB when measured).
    data = c.get(key)
    for _ in range(100):
        jit.load_object(data).close()
    start = _rss_mb()
    for _ in range(1000):
        jit.load_object(data).close()
    assert _rss_mb() - start < 3.0


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_a_record_of_another_layout_is_compiled_again(tmp_path, monkeypatch):
    # A pipeline's record is JSON, a newline, then the regions' JSON; one
    # that is not (an older layout: the regions as a string inside the JSON)
    # reads as a miss, is compiled again and replaced.
    monkeypatch.setenv("PIPELANG_CACHE", "1")
    monkeypatch.setenv("PIPELANG_CACHE_DIR", str(tmp_path))
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] = x * 5
    p = hl.Pipeline(f)
    p.compile_jit()
    cache = C.default_cache()
    records = []
    for name in _entries(tmp_path):
        payload = cache.get(name[:-len(".plc")])
        if payload.startswith(b'{"object"'):
            records.append((name[:-len(".plc")], payload))
    ((key, payload),) = records
    head, regions = payload.split(b"\n", 1)
    old = json.loads(head)
    old["regions"] = regions.decode()
    cache.put(key, json.dumps(old).encode())
    q = hl.Pipeline(f)
    q.compile_jit()
    assert q._compiled.cache_hit is False
    assert list(np.asarray(q.realize([4]))) == [0, 5, 10, 15]
    assert cache.get(key) == payload           # stored again in its layout
    r = hl.Pipeline(f)
    r.compile_jit()
    assert r._compiled.cache_hit is True and list(np.asarray(r.realize([3]))) == [0, 5, 10]


def test_threads_opening_the_cache_at_once_all_get_it(tmp_path, monkeypatch):
    # The first compiles of a process may run in several threads: one that
    # finds the configuration recorded must find its cache too (it found a
    # KeyError while the other was still opening the directory).
    import threading
    import time
    monkeypatch.setenv("PIPELANG_CACHE", "1")
    monkeypatch.setenv("PIPELANG_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setattr(C, "_state", {})
    real_open = C._open

    def slow_open(*args):
        time.sleep(0.05)
        return real_open(*args)
    monkeypatch.setattr(C, "_open", slow_open)
    found, errors = [], []

    def open_cache():
        try:
            found.append(C.default_cache())
        except Exception as e:          # noqa: BLE001 - what the test looks for
            errors.append(e)
    threads = [threading.Thread(target=open_cache) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.01)
    for t in threads:
        t.join()
    assert errors == [] and len(found) == 2
    assert all(isinstance(c, C.CompileCache) for c in found)
