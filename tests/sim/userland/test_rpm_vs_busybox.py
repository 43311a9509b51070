"""rpm2cpio and rpm -qp on the simulator against REAL busybox: packages
written here (lead, signature header padded to 8 bytes, main header with
name/version/info/file-list tags, a newc cpio payload compressed with
gzip, xz or bzip2), converted (rpm2cpio, from a file and stdin), queried
(-qp, -qpi, -qpl, -qpd, -qpc) and broken; usage errors."""

from __future__ import annotations

import bz2
import gzip
import lzma
import struct

import pytest

STRING, INT32, STRING_ARRAY, I18N = 6, 4, 8, 9


def header(tags) -> bytes:
    """tags: (tag, type, value) -- value a str, a list of str or of int."""
    index, store = [], b""
    for tag, typ, value in tags:
        if typ == INT32:
            while len(store) % 4:
                store += b"\0"
            data, count = b"".join(struct.pack(">i", v) for v in value), len(value)
        elif typ == STRING_ARRAY:
            data, count = b"".join(v.encode() + b"\0" for v in value), len(value)
        else:
            data, count = value.encode() + b"\0", 1
        index.append(struct.pack(">IIII", tag, typ, len(store), count))
        store += data
    return struct.pack(">IIII", 0x8EADE801, 0, len(tags), len(store)) + b"".join(index) + store


def newc(entries) -> bytes:
    out = b""
    for ino, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], 1):
        fields = [ino, mode, 0, 0, 1, 1700000000, len(data), 0, 0, 0, 0, len(name) + 1, 0]
        head = b"070701" + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0"
        head += b"\0" * (-len(head) % 4)
        out += head + data + b"\0" * (-len(data) % 4)
    return out


FILES_IN = [
    ("./etc", 0o40755, b""),
    ("./etc/hello.conf", 0o100644, b"k=v\n"),
    ("./usr/doc", 0o100644, b"read me\n"),
]


def make_rpm(
    *, compress=gzip.compress, extra=(), sig_size=5, payload=None, source="hello-1.0-1.src.rpm"
) -> bytes:
    lead = struct.pack(">IBBHH66sHH16s", 0xEDABEEDB, 3, 0, 0, 1, b"hello-1.0-1", 1, 5, b"")
    sig = header([(1000, STRING, "x" * sig_size)])
    sig += b"\0" * (-len(sig) % 8)
    tags = [
        (1000, STRING, "hello"),
        (1001, STRING, "1.0"),
        (1002, STRING, "1"),
        (1004, I18N, "a greeting"),
        (1005, I18N, "Says hello.\nTwo lines."),
        (1006, INT32, [1700000000]),
        (1007, STRING, "builder.example"),
        (1009, INT32, [12345]),
        (1014, STRING, "GPL"),
        (1016, I18N, "Applications/Text"),
        (1020, STRING, "https://example.invalid/"),
        (1037, INT32, [0, 1, 2]),
        (1039, STRING_ARRAY, ["root", "nobody", "daemon"]),
        (1040, STRING_ARRAY, ["root", "nogroup", "nosuchgroup"]),
        *([(1044, STRING, source)] if source else []),
        (1116, INT32, [0, 1, 2]),
        (1117, STRING_ARRAY, ["etc", "hello.conf", "doc"]),
        (1118, STRING_ARRAY, ["/", "/etc/", "/usr/"]),
        *extra,
    ]
    body = payload if payload is not None else compress(newc(FILES_IN))
    return lead + sig + header(sorted(tags)) + body


FILES = {
    "/work/h.rpm": make_rpm(),
    "/work/xz.rpm": make_rpm(
        compress=lambda d: lzma.compress(d, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32), sig_size=8
    ),
    "/work/bz.rpm": make_rpm(compress=bz2.compress, source=""),
    "/work/lz.rpm": make_rpm(
        compress=lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE), extra=[(1125, STRING, "lzma")]
    ),
    "/work/plain.rpm": make_rpm(payload=b"070701 not compressed"),
    "/work/badmagic.rpm": make_rpm()[:96] + b"\0" * 40,
    "/work/short.rpm": make_rpm()[:100],
    "/work/tiny.rpm": b"abc",
}

CASES = [
    "rpm2cpio h.rpm | cpio -t; echo $?; rpm2cpio xz.rpm | md5sum; rpm2cpio bz.rpm | cpio -tv; rpm2cpio lz.rpm | cpio -t; "
    "rpm2cpio < h.rpm | wc -c; mkdir o; cd o; rpm2cpio ../h.rpm | cpio -id; echo $?; find . | sort; cat etc/hello.conf",
    "for f in plain badmagic short tiny nosuch; do rpm2cpio $f.rpm | wc -c; done; rpm2cpio < badmagic.rpm; echo $?",
    "rpm -qp h.rpm; echo $?; rpm -qp h.rpm bz.rpm xz.rpm; rpm -qpi h.rpm; rpm -qpi bz.rpm; rpm -qpl h.rpm; "
    "rpm -qpd h.rpm; rpm -qpc h.rpm; rpm -qpdc h.rpm; rpm -q -p -l xz.rpm; rpm -pq h.rpm; rpm -qlp h.rpm",
    # -i: a binary package (it names its source rpm) goes to /, a source package here
    "mkdir -p etc; echo old > /etc/hello.conf; rpm -i h.rpm; echo $?; cat /etc/hello.conf /etc/hello.conf.rpmorig; "
    "ls -ln --full-time /etc/hello.conf* /usr/doc | sed 's/ [0-9-]* [0-9:.]* +0000 / /'; rpm -i h.rpm; echo $?; ls /etc/hello*; "
    "rpm -i bz.rpm; echo $?; find etc usr | sort; rpm -i plain.rpm; echo $?; rpm -i xz.rpm badmagic.rpm; echo $?",
    "rpm; echo $?; rpm -q h.rpm; echo $?; rpm -qq h.rpm; echo $?; rpm -x h.rpm; echo $?; rpm -qp; echo $?; "
    "rpm -qp nosuch.rpm; echo $?; rpm -qp badmagic.rpm; echo $?; rpm -qp h.rpm short.rpm; echo $?; rpm -l h.rpm; echo $?",
]


@pytest.mark.parametrize("script", CASES)
def test_rpm_cases(same, script):
    same(script, files=FILES)
