"""Write a static library (a Unix `ar` archive) without any external tool.

The GNU/System V format: the `!<arch>` magic, then per member a 60-byte
header (name, mtime, uid, gid, mode, size) and the data padded to an even
length. A symbol table member ("/") lists each global symbol and the
offset of the member defining it, so linkers need no `ranlib`. Names
longer than 15 characters go to the "//" string table, as GNU ar does.

Mach-O linkers and MSVC's link.exe read this format too (MSVC expects the
same first-linker-member layout).
"""
from __future__ import annotations

import struct

MAGIC = b"!<arch>\n"


def _header(name: bytes, size: int, mode: bytes = b"644") -> bytes:
    h = (name.ljust(16) + b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6)
         + mode.ljust(8) + str(size).encode().ljust(10) + b"`\n")
    assert len(h) == 60, len(h)
    return h


def _pad(data: bytes) -> bytes:
    return data + (b"\n" if len(data) % 2 else b"")


def write_archive(path: str, members: list[tuple[str, bytes, list[str]]]) -> None:
    """`members`: (file name, contents, global symbols it defines)."""
    long_names = b""
    names = []
    for name, _, _ in members:
        raw = name.encode()
        if len(raw) <= 15:
            names.append(raw + b"/")
        else:
            names.append(b"/" + str(len(long_names)).encode())
            long_names += raw + b"/\n"
    symbols = [(s, i) for i, (_, _, syms) in enumerate(members) for s in syms]
    strtab = b"".join(s.encode() + b"\0" for s, _ in symbols)
    symtab_size = 4 + 4 * len(symbols) + len(strtab)
    offset = len(MAGIC) + 60 + len(_pad(b"\0" * symtab_size))
    if long_names:
        offset += 60 + len(_pad(long_names))
    member_offsets = []
    for (_, data, _) in members:
        member_offsets.append(offset)
        offset += 60 + len(_pad(data))
    symtab = struct.pack(">I", len(symbols))
    symtab += b"".join(struct.pack(">I", member_offsets[i]) for _, i in symbols) + strtab
    out = [MAGIC, _header(b"/", len(symtab), b"0"), _pad(symtab)]
    if long_names:
        out += [_header(b"//", len(long_names), b"0"), _pad(long_names)]
    for raw_name, (_, data, _) in zip(names, members):
        out += [_header(raw_name, len(data)), _pad(data)]
    with open(path, "wb") as f:
        f.write(b"".join(out))
