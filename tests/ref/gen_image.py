#!/usr/bin/python3
"""Reference data for tests/test_image.c.

1. Writes the generated test files in tests/data/images/generated/: PNGs
   and JPEGs whose content the tests need and the copied corpora lack
   (16-bit levels, EXIF orientations, CMYK, truncations, a tiny file that
   claims a huge size).
2. Decodes a sample of the test images with Pillow and writes, per file
   and decode mode, the expected size and an FNV-1a 64 hash of the pixels
   (tests/data/images/reference.tsv). Where Pillow cannot see the exact
   samples (it keeps the high byte of 16-bit colour PNGs, where the
   library rounds) a raw copy of the expected pixels is stored instead and
   compared with a tolerance.

Alpha is composited over white as the library documents:
    out = round((c * a + 255 * (255 - a)) / 255)
and gray output from colour uses Pillow's own luma (its convert("L")).

Run with Debian's interpreter: /usr/bin/python3 tests/ref/gen_image.py
"""
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'data', 'images')
GEN = os.path.join(DATA, 'generated')
RAW = os.path.join(DATA, 'reference')


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xffffffffffffffff
    return '%016x' % h


def png_chunk(kind, payload):
    body = kind + payload
    return (struct.pack('>I', len(payload)) + body +
            struct.pack('>I', zlib.crc32(body) & 0xffffffff))


# ---- generated test files ------------------------------------------------

def write_generated():
    os.makedirs(GEN, exist_ok=True)

    # 16-bit gray levels that must scale to 0, 1, 128, 255.
    levels = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)
    Image.fromarray(levels, 'I;16').save(os.path.join(GEN,
                                                      'gray16_levels.png'))

    # An asymmetric picture, so every orientation looks different.
    y, x = np.mgrid[0:24, 0:40]
    rgb = np.stack([x * 6, y * 10, (x + y) * 3], axis=-1).astype(np.uint8)
    rgb[2:8, 2:14] = (255, 0, 0)
    base = Image.fromarray(rgb, 'RGB')
    for n in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = n
        base.save(os.path.join(GEN, 'exif_%d.jpg' % n), quality=92,
                  exif=exif.tobytes())
    base.save(os.path.join(GEN, 'progressive.jpg'), quality=90,
              progressive=True)

    # CMYK with Adobe's APP14 marker (Pillow writes inverted samples).
    cmyk = np.stack([x * 6, y * 10, 255 - x * 6, (x * y) % 200],
                    axis=-1).astype(np.uint8)
    Image.fromarray(cmyk, 'CMYK').save(os.path.join(GEN, 'cmyk.jpg'),
                                       quality=95)

    # Truncated copies of good files.
    for src, dst in (('jpeg/testorig.jpg', 'truncated.jpg'),
                     ('pngsuite/basn2c08.png', 'truncated.png')):
        with open(os.path.join(DATA, src), 'rb') as f:
            data = f.read()
        with open(os.path.join(GEN, dst), 'wb') as f:
            f.write(data[:len(data) * 2 // 3])

    # 230-byte files whose headers claim 35584x18696 pixels.
    ihdr = struct.pack('>IIBBBBB', 35584, 18696, 8, 2, 0, 0, 0)
    png = (b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', ihdr) +
           png_chunk(b'IDAT', zlib.compress(b'\0' * 64)))
    png += png_chunk(b'tEXt', b'c\0' + b'x' * (230 - len(png) - 12 - 2))
    sof2 = (b'\xff\xd8' + b'\xff\xc2' + struct.pack('>HBHHB', 17, 8, 18696,
                                                    35584, 3) +
            b'\x01\x22\x00\x02\x11\x00\x03\x11\x00')
    sos = b'\xff\xda' + struct.pack('>HB', 12, 3) + b'\x01\x00\x02\x00\x03\x00'
    sos += b'\x00\x00\x00'
    pad = 230 - len(sof2) - len(sos) - 4 - 2
    jpg = sof2 + b'\xff\xfe' + struct.pack('>H', pad + 2) + b'z' * pad
    jpg += sos + b'\xff\xd9'
    for name, data in (('huge_claim.png', png), ('huge_claim.jpg', jpg)):
        assert len(data) == 230, (name, len(data))
        with open(os.path.join(GEN, name), 'wb') as f:
            f.write(data)

    # Verdicts for these files, in the corpus's EXPECTED.tsv layout.
    rows = [('gray16_levels.png', 'png', 'ok', 4, 1, 1, '16-bit gray'),
            ('progressive.jpg', 'jpeg', 'ok', 40, 24, 3, 'progressive'),
            ('cmyk.jpg', 'jpeg', 'ok', 40, 24, 4, 'adobe cmyk'),
            ('truncated.jpg', 'jpeg', 'ok_with_warnings', 227, 149, 3,
             'truncated'),
            ('truncated.png', 'png', 'reject', '-', '-', '-', 'truncated'),
            ('huge_claim.png', 'png', 'reject', '-', '-', '-', 'huge claim'),
            ('huge_claim.jpg', 'jpeg', 'reject', '-', '-', '-', 'huge claim')]
    rows += [('exif_%d.jpg' % n, 'jpeg', 'ok', 40, 24, 3,
              'exif-orientation=%d' % n) for n in range(1, 9)]
    with open(os.path.join(GEN, 'EXPECTED.tsv'), 'w') as f:
        f.write('# Files written by tests/ref/gen_image.py\n')
        f.write('file\tformat\tresult\twidth\theight\tchannels\tdetail\n')
        for r in rows:
            f.write('\t'.join(['generated/' + r[0]] +
                               [str(v) for v in r[1:]]) + '\n')


# ---- Pillow decodes ------------------------------------------------------

def png_ihdr(path):
    with open(path, 'rb') as f:
        head = f.read(33)
    width, height, depth, color = struct.unpack('>IIBB', head[16:26])
    return depth, color


def png_rgba(path):
    """(RGBA uint8 array, source is gray, tolerance) as Pillow sees it."""
    depth, color = png_ihdr(path)
    im = Image.open(path)
    im.load()
    trns = im.info.get('transparency')
    if color in (0, 4) and depth == 16 and im.mode in ('I', 'I;16'):
        raw = np.array(im).astype(np.int64)
        g = ((raw * 510 + 65535) // 131070).astype(np.uint8)
        a = np.full(g.shape, 255, np.uint8)
        if isinstance(trns, int):
            a[raw == trns] = 0
        return np.dstack([g, g, g, a]), True, 0
    if color == 0:
        g = np.array(im.convert('L'))
        a = np.full(g.shape, 255, np.uint8)
        if isinstance(trns, int):
            raw = g.astype(np.int64) * (2 ** depth - 1) // 255
            a[raw == trns] = 0
        return np.dstack([g, g, g, a]), True, 0
    if color == 4:
        la = np.array(im.convert('LA'))
        g, a = la[..., 0], la[..., 1]
        return np.dstack([g, g, g, a]), True, 2 if depth == 16 else 0
    if color == 2 and trns is not None and depth == 16:
        return None, False, 0  # Pillow has lost the low bytes tRNS names
    rgba = np.array(im.convert('RGBA'))
    return rgba, False, (2 if depth == 16 else 0)


def composite(rgba, drop):
    c = rgba[..., :3].astype(np.int64)
    if drop:
        return c.astype(np.uint8)
    a = rgba[..., 3:4].astype(np.int64)
    v = c * a + 255 * (255 - a)
    return ((2 * v + 255) // 510).astype(np.uint8)


def luma(rgb):
    im = Image.fromarray(np.ascontiguousarray(rgb), 'RGB')
    return np.array(im.convert('L'))


def png_modes(path):
    rgba, gray, tol = png_rgba(path)
    if rgba is None:
        return []
    out = []
    has_alpha = bool((rgba[..., 3] != 255).any())
    for alpha in (['composite', 'drop'] if has_alpha else ['composite']):
        rgb = composite(rgba, alpha == 'drop')
        if gray:
            g = rgb[..., 0]
        else:
            g = luma(rgb)
        out.append(('keep', alpha, 0, g if gray else rgb, tol))
        out.append(('rgb', alpha, 0, rgb, tol))
        out.append(('gray', alpha, 0, g, tol))
    return out


def jpeg_modes(path):
    im = Image.open(path)
    out = []
    upright = ImageOps.exif_transpose(im)
    if upright.mode == 'L':
        keep = np.array(upright)
        out.append(('keep', 'composite', 0, keep, 0))
        out.append(('gray', 'composite', 0, keep, 0))
        out.append(('rgb', 'composite', 0,
                    np.array(upright.convert('RGB')), 0))
    else:
        rgb = np.array(upright.convert('RGB'))
        out.append(('keep', 'composite', 0, rgb, 0))
        out.append(('rgb', 'composite', 0, rgb, 0))
        if im.mode == 'YCbCr' or im.mode == 'RGB':
            # libjpeg's own YCbCr -> gray (the Y plane), as the library
            # asks for it.
            g = Image.open(path)
            g.draft('L', g.size)
            g = ImageOps.exif_transpose(g)
            out.append(('gray', 'composite', 0, np.array(g), 0))
    if 'exif' not in path:
        # DCT scaling by 1/2: Pillow's draft picks it for half the size.
        w, h = im.size
        d = Image.open(path)
        d.draft('RGB', (w // 2, h // 2))
        half = np.array(d.convert('RGB'))
        assert half.shape[1] == (w + 1) // 2, (path, half.shape)
        out.append(('rgb', 'composite', (max(w, h) + 1) // 2, half, 0))
    return out


PNG_SAMPLE_PREFIXES = ('bas', 'bg', 'tb', 'tp', 'tm', 'ts', 'f', 'cs', 'oi',
                       'g0', 'z0', 'pp', 's0', 's3', 's9')
JPEG_SAMPLE = ['jpeg/testorig.jpg', 'jpeg/testimgp.jpg',
               'jpeg/testimgari.jpg', 'jpeg/testimggray.jpg',
               'jpeg/testimgint.jpg', 'generated/cmyk.jpg',
               'generated/progressive.jpg'] + [
                   'generated/exif_%d.jpg' % n for n in range(1, 9)]


def write_references():
    os.makedirs(RAW, exist_ok=True)
    files = sorted('pngsuite/' + f for f in os.listdir(
        os.path.join(DATA, 'pngsuite'))
        if f.endswith('.png') and f.startswith(PNG_SAMPLE_PREFIXES))
    files += ['generated/gray16_levels.png'] + JPEG_SAMPLE
    lines = ['# file\tcolor\talpha\tmax_side\twidth\theight\tchannels\t'
             'tolerance\tfnv1a64\traw']
    for rel in files:
        path = os.path.join(DATA, rel)
        modes = png_modes(path) if rel.endswith('.png') else jpeg_modes(path)
        for color, alpha, max_side, px, tol in modes:
            px = np.ascontiguousarray(px)
            h, w = px.shape[:2]
            c = 1 if px.ndim == 2 else px.shape[2]
            raw = '-'
            if tol and color == 'keep':
                raw = '%s.%s.%s.bin' % (os.path.basename(rel), color, alpha)
                with open(os.path.join(RAW, raw), 'wb') as f:
                    f.write(px.tobytes())
            elif tol:
                continue
            lines.append('\t'.join(str(v) for v in (
                rel, color, alpha, max_side, w, h, c, tol,
                fnv1a64(px.tobytes()), raw)))
    with open(os.path.join(DATA, 'reference.tsv'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print(len(lines) - 1, 'references')


if __name__ == '__main__':
    write_generated()
    write_references()
