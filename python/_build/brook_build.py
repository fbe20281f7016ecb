"""A PEP 517 build backend for the brook package: no setuptools, nothing from PyPI.

The wheel holds the pure-Python package and libbrook.so inside it (brook/libbrook.so, where
brook/_ffi.py looks first). The library comes from, in order: the environment variable
BROOK_LIBRARY, python/brook/libbrook.so, or ../target/release/libbrook.so (what
`cargo build --release` makes). Since the library is native, the wheel is tagged for this
platform (py3-none-linux_x86_64 and the like), not "any".
"""

import base64
import hashlib
import io
import os
import re
import sysconfig
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # python/
PACKAGE = os.path.join(ROOT, "brook")
LIB_NAME = "libbrook.so"
# Fixed timestamps make the same sources give the same wheel.
EPOCH = (1980, 1, 1, 0, 0, 0)


def _project():
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        text = f.read()
    project = text[text.index("[project]"):]
    field = lambda k: re.search(rf'^{k} = "([^"]*)"', project, re.M).group(1)  # noqa: E731
    return {k: field(k) for k in ("name", "version", "description", "requires-python")}


def _library():
    candidates = [os.environ.get("BROOK_LIBRARY"), os.path.join(PACKAGE, LIB_NAME),
                  os.path.join(os.path.dirname(ROOT), "target", "release", LIB_NAME)]
    for path in candidates:
        if path and os.path.isfile(path):
            return path
    raise RuntimeError(
        "brook: no libbrook.so to put in the wheel: run `cargo build --release` (or `make "
        "python`) first, or set BROOK_LIBRARY to the library's path"
    )


def _sources():
    for name in sorted(os.listdir(PACKAGE)):
        if name.endswith(".py"):
            yield f"brook/{name}", os.path.join(PACKAGE, name)


def _platform_tag():
    return re.sub(r"[^A-Za-z0-9]", "_", sysconfig.get_platform())


def _metadata(p):
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {p['name']}\nVersion: {p['version']}\nSummary: {p['description']}\n"
        f"Requires-Python: {p['requires-python']}\n"
    )


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}\n"


def _write_wheel(wheel_directory, files, tag):
    """files: (arcname, bytes, executable) in the wheel; the dist-info comes last."""
    p = _project()
    dist = f"{p['name']}-{p['version']}"
    info = f"{dist}.dist-info"
    files = list(files) + [
        (f"{info}/METADATA", _metadata(p).encode(), False),
        (f"{info}/WHEEL", (
            "Wheel-Version: 1.0\nGenerator: brook_build\n"
            f"Root-Is-Purelib: false\nTag: {tag}\n").encode(), False),
        (f"{info}/top_level.txt", b"brook\n", False),
    ]
    record = "".join(_record_line(a, d) for a, d, _ in files) + f"{info}/RECORD,,\n"
    files.append((f"{info}/RECORD", record.encode(), False))
    name = f"{dist}-{tag}.whl"
    os.makedirs(wheel_directory, exist_ok=True)
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for arcname, data, executable in files:
            zi = zipfile.ZipInfo(arcname, EPOCH)
            zi.external_attr = (0o755 if executable else 0o644) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return name


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = [(arc, _read(path), False) for arc, path in _sources()]
    files.append((f"brook/{LIB_NAME}", _read(_library()), True))
    return _write_wheel(wheel_directory, files, f"py3-none-{_platform_tag()}")


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """An editable install: a .pth file putting python/ on sys.path. The library is then
    found through BROOK_LIBRARY, python/brook/libbrook.so or the system."""
    pth = (ROOT + "\n").encode()
    return _write_wheel(wheel_directory, [("brook_editable.pth", pth, False)],
                        f"py3-none-{_platform_tag()}")


def build_sdist(sdist_directory, config_settings=None):
    """Sources only: building a wheel from them needs BROOK_LIBRARY (brook's Rust sources
    are not in the sdist)."""
    p = _project()
    base = f"{p['name']}-{p['version']}"
    name = f"{base}.tar.gz"
    os.makedirs(sdist_directory, exist_ok=True)
    entries = [("pyproject.toml", os.path.join(ROOT, "pyproject.toml")),
               ("_build/brook_build.py", os.path.abspath(__file__))] + list(_sources())
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as t:
        for arcname, path in entries:
            data = _read(path)
            ti = tarfile.TarInfo(f"{base}/{arcname}")
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 315532800
            t.addfile(ti, io.BytesIO(data))
        pkg_info = _metadata(p).encode()
        ti = tarfile.TarInfo(f"{base}/PKG-INFO")
        ti.size, ti.mode, ti.mtime = len(pkg_info), 0o644, 315532800
        t.addfile(ti, io.BytesIO(pkg_info))
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []
