"""Builds the localndif wheel (pyproject.toml: maturin, bindings = "bin") and finishes it.

    .venv/bin/python python/build_wheel.py [--profile release|dev] [--out DIR] [--jobs N]
    .venv/bin/python python/build_wheel.py --finish WHEEL...

maturin builds the binary with cargo in this checkout's target/ (a binary already built
there for the same profile is reused as it is: the wheel's test in `make test` packs the
debug build) and packs it with python/localndif. pyproject.toml's `auditwheel = "warn"`:
libtorch and the libraries it needs are *not* copied into the wheel — they come from the
torch wheel the package depends on — and the platform tag is the lowest manylinux the
binary's own glibc and libstdc++ symbol versions allow.

Finishing cuts the build machine's libtorch directory off the rpath of the `localndif`
binary in the wheel, so that the installed binary finds libtorch only in the torch package
installed beside it. server/build.rs gives every build the rpath
`$ORIGIN/../lib/python3.X/site-packages/torch/lib:...:<the build's torch/lib>`: the
relative entries find the torch of the environment pip installs the wheel into; the last,
absolute one is what a binary in target/ runs with. In the wheel that entry would be a
path of the build machine (and a test of the wheel on that machine would pass through it
even if the relative entries were wrong), so it is cut — in place, by ending the rpath
string where the relative entries end (one NUL byte in .dynstr; no offset moves) — and
the wheel's RECORD gets the binary's new hash. A finished wheel is left as it is.

The tools (python/requirements-wheel.txt: maturin, and pytest for the wheel's test) are
downloaded once as wheels into target/wheel-tools/<hash>/wheelhouse, maturin installed
from there into a venv beside it; later builds need no network.
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQS = ROOT / "python/requirements-wheel.txt"

DT_NULL, DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 14, 15, 29
SHT_DYNAMIC, SHT_DYNSYM, SHT_GNU_VERNEED = 6, 11, 0x6FFFFFFE
RELATIVE = "$ORIGIN"


class WheelError(Exception):
    pass


def _sections(elf: bytes):
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise WheelError("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
    out = []
    for i in range(shnum):
        (_name, typ, _flags, _addr, offset, size, link, _info, _align, entsize) = struct.unpack_from(
            "<IIQQQQIIQQ", elf, shoff + i * shentsize
        )
        out.append((typ, offset, size, link, entsize))
    return out


def _cstr(elf: bytes, at: int) -> str:
    return elf[at : elf.index(b"\0", at)].decode()


def cut_rpath(elf: bytearray) -> tuple[str, str]:
    """Ends the binary's RUNPATH (or RPATH) after its `$ORIGIN` entries, in place; the
    rpath before and after. Raises WheelError if that is not a cut of the string's tail or
    if any other dynamic string shares the bytes it would change."""
    sections = _sections(elf)
    dynamic = [s for s in sections if s[0] == SHT_DYNAMIC]
    if len(dynamic) != 1:
        raise WheelError("no single .dynamic section")
    _, dyn_off, dyn_size, strtab_index, _ = dynamic[0]
    strtab = sections[strtab_index][1]
    rpath_at = None
    refs = []
    for i in range(0, dyn_size, 16):
        tag, val = struct.unpack_from("<qQ", elf, dyn_off + i)
        if tag == DT_NULL:
            break
        if tag in (DT_RPATH, DT_RUNPATH):
            if rpath_at is not None:
                raise WheelError("more than one rpath entry")
            rpath_at = strtab + val
        elif tag in (DT_NEEDED, DT_SONAME):
            refs.append(strtab + val)
    if rpath_at is None:
        raise WheelError("the binary has no rpath")
    for typ, offset, size, link, entsize in sections:
        if sections[link][1] != strtab:
            continue
        if typ == SHT_DYNSYM:
            refs += [strtab + struct.unpack_from("<I", elf, offset + j)[0] for j in range(0, size, entsize or 24)]
        elif typ == SHT_GNU_VERNEED:
            at = offset
            while True:
                _ver, cnt, file, aux, nxt = struct.unpack_from("<HHIII", elf, at)
                refs.append(strtab + file)
                a = at + aux
                for _ in range(cnt):
                    _hash, _flags, _other, name, anext = struct.unpack_from("<IHHII", elf, a)
                    refs.append(strtab + name)
                    a += anext
                if not nxt:
                    break
                at += nxt
    before = _cstr(elf, rpath_at)
    entries = before.split(":")
    keep = [e for e in entries if e.startswith(RELATIVE)]
    if not keep:
        raise WheelError(f"no {RELATIVE} entries in the rpath {before!r}: was server/build.rs changed?")
    if entries[: len(keep)] != keep:
        raise WheelError(f"the {RELATIVE} entries do not come first in the rpath {before!r}")
    after = ":".join(keep)
    if after == before:
        return before, after
    cut = rpath_at + len(after.encode())
    shared = [r for r in refs if rpath_at < r <= cut]
    if shared:
        raise WheelError(f"{len(shared)} other dynamic strings share the rpath's bytes: not cutting in place")
    elf[cut] = 0
    return before, after


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def finish(wheel: str) -> str:
    """Cuts the rpath of the wheel's `localndif` script, rewriting the wheel; its rpath."""
    with zipfile.ZipFile(wheel) as z:
        infos = z.infolist()
        binary = [i for i in infos if i.filename.endswith(".data/scripts/localndif")]
        record = [i for i in infos if i.filename.endswith(".dist-info/RECORD")]
        if len(binary) != 1 or len(record) != 1:
            raise WheelError(f"{wheel}: expected one .data/scripts/localndif and one RECORD")
        elf = bytearray(z.read(binary[0]))
        before, after = cut_rpath(elf)
        if before == after:
            return after
        data = bytes(elf)
        lines = []
        for line in z.read(record[0]).decode().splitlines():
            name = line.rsplit(",", 2)[0]
            if name == binary[0].filename:
                line = f"{name},{_record_hash(data)},{len(data)}"
            lines.append(line)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(wheel)), suffix=".whl.tmp")
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w") as out:
                for info in infos:
                    if info is binary[0]:
                        content = data
                    elif info is record[0]:
                        content = ("\n".join(lines) + "\n").encode()
                    else:
                        content = z.read(info)
                    out.writestr(info, content, compress_type=info.compress_type)
            shutil.copymode(wheel, tmp)
            os.replace(tmp, wheel)
        except BaseException:
            os.unlink(tmp)
            raise
    return after


def tools() -> tuple[Path, Path]:
    """The wheelhouse of python/requirements-wheel.txt and maturin, set up once."""
    digest = hashlib.sha256(REQS.read_bytes()).hexdigest()[:12]
    home = ROOT / "target/wheel-tools" / digest
    wheelhouse, venv = home / "wheelhouse", home / "venv"
    maturin = venv / "bin/maturin"
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (home / ".ready").exists():
            shutil.rmtree(wheelhouse, ignore_errors=True)
            shutil.rmtree(venv, ignore_errors=True)
            print(f"build_wheel: downloading {REQS.relative_to(ROOT)} into {wheelhouse}", file=sys.stderr)
            got = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                 "--dest", str(wheelhouse), "-r", str(REQS)],
            )
            if got.returncode != 0:
                raise WheelError(
                    f"could not download {REQS.relative_to(ROOT)} (this needs the network once); "
                    f"or put those wheels into {wheelhouse} and touch {home / '.ready'}"
                )
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [str(venv / "bin/pip"), "install", "--quiet", "--no-index", "--find-links", str(wheelhouse), "maturin"],
                check=True,
            )
            (home / ".ready").touch()
    return wheelhouse, maturin


def build(profile: str, out: Path, jobs: int | None) -> Path:
    """maturin build into `out` (its older localndif wheels removed), then `finish`."""
    wheelhouse, maturin = tools()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("localndif-*.whl"):
        old.unlink()
    cmd = [str(maturin), "build", "--profile", profile, "--out", str(out)]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    subprocess.run(cmd, cwd=ROOT, check=True)
    print("build_wheel: libtorch is left out on purpose: the wheel's torch==2.13.0 dependency installs it", file=sys.stderr)
    built = sorted(out.glob("localndif-*.whl"))
    if len(built) != 1:
        raise WheelError(f"expected one localndif wheel in {out}, found {built}")
    finish(str(built[0]))
    return built[0]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--profile", default="release", help="cargo profile: release (default) or dev")
    parser.add_argument("--out", type=Path, default=ROOT / "target/wheels")
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--finish", nargs="+", metavar="WHEEL", help="only finish these wheels")
    args = parser.parse_args(argv)
    try:
        if args.finish:
            for wheel in args.finish:
                print(f"{os.path.basename(wheel)}: localndif's rpath is {finish(wheel)}")
            return 0
        wheel = build(args.profile, args.out.resolve(), args.jobs)
        wheelhouse, _ = tools()
    except (WheelError, subprocess.CalledProcessError) as e:
        print(f"build_wheel: {e}", file=sys.stderr)
        return 1
    print(f"wheel: {wheel}")
    print(f"wheelhouse: {wheelhouse}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
