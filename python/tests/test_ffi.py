"""brook._ffi declares every function of include/brook.h, with the header's types."""

import ctypes
import os
import re

import pytest

from brook import _ffi

HEADER = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "include", "brook.h")


def header_prototypes():
    if not os.path.exists(HEADER):
        pytest.skip(f"{HEADER} not found (tests run outside the source tree)")
    with open(HEADER) as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    found = {}
    for m in re.finditer(r"^[A-Za-z_][^;{}()#]*?\bbrook_\w+\s*\([^)]*\)\s*;", text, flags=re.M):
        name, ret, params = _ffi.parse_prototype(m.group(0).rstrip(";"))
        found[name] = (ret, params)
    return found


def declared():
    return {name: (ret, params) for name, ret, params in map(_ffi.parse_prototype, _ffi.all_prototypes())}


def test_header_parses_to_many_functions():
    protos = header_prototypes()
    assert len(protos) > 100
    assert protos["brook_data_new_count"] == ("brook_status", ["uint64_t", "brook_data **"])


def test_every_header_function_is_declared():
    missing = sorted(set(header_prototypes()) - set(declared()))
    assert not missing, f"functions of include/brook.h that brook/_ffi.py does not bind: {missing}"


def test_no_stale_declarations():
    stale = sorted(set(declared()) - set(header_prototypes()))
    assert not stale, f"brook/_ffi.py declares functions include/brook.h no longer has: {stale}"


def test_declarations_match_the_header():
    header = header_prototypes()
    wrong = {n: (header[n], d) for n, d in declared().items() if n in header and header[n] != d}
    assert not wrong, f"prototypes that differ (header, _ffi.py): {wrong}"


def test_every_function_has_argtypes_and_restype():
    for name, (ret, params) in declared().items():
        if not hasattr(_ffi.lib, name):
            assert name in _ffi.STORE_SIGNATURES and not _ffi.has_stores
            continue
        fn = getattr(_ffi.lib, name)
        assert fn.argtypes is not None and len(fn.argtypes) == len(params), name
        if ret == "void":
            assert fn.restype is None, name
        elif "*" in ret:
            # ctypes' default (int) would truncate a pointer.
            assert fn.restype in (ctypes.c_char_p, ctypes.c_void_p), name
        else:
            assert fn.restype is not ctypes.c_int or ret in (
                "brook_status", "brook_data_type", "int"), name


def test_pointer_arguments_are_pointer_sized():
    for name, (ret, params) in declared().items():
        if not hasattr(_ffi.lib, name):
            continue
        for c_type, t in zip(params, getattr(_ffi.lib, name).argtypes):
            if "*" in c_type:
                assert ctypes.sizeof(t) == ctypes.sizeof(ctypes.c_void_p), (name, c_type)


def test_the_library_is_the_header_version():
    with open(HEADER) as f:
        m = re.search(r'#define BROOK_VERSION_STRING "([^"]+)"', f.read())
    assert _ffi.lib.brook_version().decode() == m.group(1)


def test_unknown_type_is_refused():
    with pytest.raises(TypeError):
        _ffi.declare(_ffi.lib, "brook_status brook_version(struct foo *x)")
