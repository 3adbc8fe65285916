#!/usr/bin/env python3
"""What a screenshot holds: png_colors.py FILE.png NAME=RRGGBB ...

Decodes the PNG itself (8-bit RGB or RGBA, not interlaced: what chromium's
--screenshot writes), then prints its size, how many distinct colours it
has, how many pixels are not white, and for each NAME how many pixels are
that colour (within 8 of each channel, for anti-aliasing), one "key value"
a line. Exits 1 when the file is no such PNG.
"""
import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("%s: not a PNG" % path)
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace:
        sys.exit("%s: only 8-bit RGB or RGBA, not interlaced" % path)
    step = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), width * step
    rows, previous, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(line)
        previous = line
    return width, height, [tuple(row[i:i + 3]) for row in rows for i in range(0, stride, step)]


def main():
    width, height, all_pixels = pixels(sys.argv[1])
    wanted = {}
    for arg in sys.argv[2:]:
        name, hexa = arg.split("=")
        wanted[name] = tuple(int(hexa[i:i + 2], 16) for i in (0, 2, 4))
    counts = dict.fromkeys(wanted, 0)
    for pixel in all_pixels:
        for name, color in wanted.items():
            if all(abs(a - b) <= 8 for a, b in zip(pixel, color)):
                counts[name] += 1
    print("size %dx%d" % (width, height))
    print("colours %d" % len(set(all_pixels)))
    print("inked %d" % sum(1 for p in all_pixels if p != (255, 255, 255)))
    for name in wanted:
        print("%s %d" % (name, counts[name]))


main()
