#!/usr/bin/env python3
"""Builds an APNG from PNG frames (APNG specification 1.0: acTL, fcTL, fdAT).

usage: make-apng.py OUT.png PLAYS FRAME [FRAME...]
  FRAME is FILE:X:Y:DELAY_NUM:DELAY_DEN:DISPOSE:BLEND (dispose 0 none, 1 background, 2 previous; blend 0 source,
  1 over). Every FILE must be a non-interlaced PNG with the first file's bit depth and colour type (e.g. all
  written as PNG32: by ImageMagick); the first frame fills the canvas and is also the default image (IDAT).
Used once to make the test input anim.png; kept so that it can be remade or varied.
"""
import struct
import sys
import zlib


def chunks(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        yield kind, data[pos + 8:pos + 8 + length]
        pos += 12 + length


def chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def main():
    out, plays, frames = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    sequence = 0
    body = b""
    ihdr = None
    for index, spec in enumerate(frames):
        path, x, y, num, den, dispose, blend = spec.split(":")
        parts = list(chunks(path))
        header = dict(parts)[b"IHDR"]
        width, height = struct.unpack(">II", header[:8])
        if ihdr is None:
            ihdr = header
        assert header[8:] == ihdr[8:], f"{path}: bit depth, colour type or interlace differ from the first frame"
        fctl = struct.pack(">IIIIIHHBB", sequence, width, height, int(x), int(y), int(num), int(den), int(dispose),
                           int(blend))
        body += chunk(b"fcTL", fctl)
        sequence += 1
        image_data = b"".join(payload for kind, payload in parts if kind == b"IDAT")
        if index == 0:
            body += chunk(b"IDAT", image_data)
        else:
            body += chunk(b"fdAT", struct.pack(">I", sequence) + image_data)
            sequence += 1
    head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"acTL", struct.pack(">II", len(frames), plays))
    open(out, "wb").write(head + body + chunk(b"IEND", b""))


main()
