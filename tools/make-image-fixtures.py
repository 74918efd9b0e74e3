#!/usr/bin/env python3
"""Writes the image fixtures for GroundworkImagingTests.

Usage: make-image-fixtures.py OUT_DIR [--seed N]

Writes small PNG and JPEG files of every kind Groundwork decodes, and for each a reference of the
expected decoded samples (NAME.ref: raw little-endian samples, row-major, interleaved), plus a few
damaged or unsupported files, and one manifest.json describing them all.

References come from Pillow's decoder (np.asarray of the opened image; palette images converted
with .convert("RGB"/"RGBA"); 1-bit mode "1" as 0/255), except for the layouts Pillow cannot hold
(16-bit RGB, RGBA and gray+alpha), whose references are the numpy arrays the files were written
from. Pillow cannot write those layouts (nor 2/4-bit gray, nor Adam7 interlacing), so this script
writes such PNGs itself with zlib and struct.

The committed set is generated with seed 0 into Tests/GroundworkImagingTests/Fixtures/. Needs
numpy and Pillow.
"""

import argparse
import io
import json
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
COLOR_TYPES = {"gray": 0, "rgb": 2, "palette": 3, "gray_alpha": 4, "rgba": 6}
CHANNELS = {"gray": 1, "gray_alpha": 2, "rgb": 3, "rgba": 4}


# MARK: - A minimal PNG writer (for what Pillow cannot write)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_row(row: np.ndarray, bit_depth: int) -> bytes:
    """One row of samples (1-D, interleaved) as PNG bytes."""
    if bit_depth == 16:
        return row.astype(">u2").tobytes()
    if bit_depth == 8:
        return row.astype(np.uint8).tobytes()
    per_byte = 8 // bit_depth
    padded = np.zeros(-(-row.size // per_byte) * per_byte, dtype=np.uint16)
    padded[: row.size] = row
    groups = padded.reshape(-1, per_byte)
    shifts = np.array([8 - bit_depth * (i + 1) for i in range(per_byte)], dtype=np.uint16)
    return (groups << shifts).sum(axis=1).astype(np.uint8).tobytes()


def png_bytes(samples: np.ndarray, color: str, bit_depth: int, interlace: bool = False,
              before_idat: bytes = b"", idat_parts: int = 1) -> bytes:
    """A PNG of `samples` (H x W or H x W x C), unfiltered rows, optionally Adam7 interlaced."""
    height, width = samples.shape[:2]
    flat = samples.reshape(height, width, -1)
    raw = bytearray()
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        sub = flat[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        for row in sub:
            raw.append(0)  # filter type None
            raw += pack_row(row.reshape(-1), bit_depth)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, COLOR_TYPES[color], 0, 0, 1 if interlace else 0)
    compressed = zlib.compress(bytes(raw), 9)
    step = -(-len(compressed) // idat_parts)
    idats = b"".join(png_chunk(b"IDAT", compressed[i:i + step]) for i in range(0, len(compressed), step))
    return PNG_SIGNATURE + png_chunk(b"IHDR", ihdr) + before_idat + idats + png_chunk(b"IEND", b"")


def png_chunks(data: bytes):
    """(type, start of chunk, start of data, length) for every chunk."""
    position = 8
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        yield kind, position, position + 8, length
        position += 12 + length


# MARK: - Content


def smooth(rng: np.random.Generator, height: int, width: int, channels: int, maximum: int, noise: float):
    """Gradients plus noise: realistic enough to compress, varied enough to catch mistakes."""
    y, x = np.mgrid[0:height, 0:width]
    planes = []
    for c in range(channels):
        phase = rng.uniform(0, 2 * np.pi)
        base = 0.5 + 0.35 * np.sin(x / max(width, 1) * (2 + c) * np.pi + phase) * np.cos(y / max(height, 1) * 3 * np.pi)
        base = base + rng.normal(0, noise, size=(height, width))
        planes.append(np.clip(base, 0, 1) * maximum)
    out = np.stack(planes, axis=-1) if channels > 1 else planes[0]
    return np.rint(out).astype(np.uint16 if maximum > 255 else np.uint8)


def exif_tiff(orientation: int, big_endian: bool) -> bytes:
    """A TIFF structure with one IFD0 entry: Orientation (0x0112), SHORT."""
    e = ">" if big_endian else "<"
    head = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, 8)
    entry = struct.pack(e + "HHIH", 0x0112, 3, 1, orientation) + b"\x00\x00"
    return head + struct.pack(e + "H", 1) + entry + struct.pack(e + "I", 0)


# MARK: - Fixture writing


class Writer:
    def __init__(self, out_dir: str):
        self.out_dir = out_dir
        self.images = []
        self.bad = []

    def write_file(self, file: str, data: bytes):
        with open(os.path.join(self.out_dir, file), "wb") as handle:
            handle.write(data)

    def good(self, name: str, ext: str, data: bytes, reference: np.ndarray, *, photometric: str,
             source_bit_depth: int, interlaced: bool = False, orientation: int = 1):
        file = name + "." + ext
        self.write_file(file, data)
        ref = np.ascontiguousarray(reference)
        height, width = ref.shape[:2]
        channels = 1 if ref.ndim == 2 else ref.shape[2]
        assert ref.dtype in (np.uint8, np.uint16), (name, ref.dtype)
        bit_depth = 16 if ref.dtype == np.uint16 else 8
        if bit_depth == 16:
            ref_bytes = ref.astype("<u2").tobytes()
        else:
            ref_bytes = ref.tobytes()
        self.write_file(name + ".ref", ref_bytes)
        self.images.append({
            "name": name, "file": file, "format": "png" if ext == "png" else "jpeg",
            "width": int(width), "height": int(height), "channels": int(channels), "bit_depth": bit_depth,
            "photometric": photometric, "source_bit_depth": source_bit_depth, "interlaced": interlaced,
            "orientation": orientation,
        })

    def bad_file(self, name: str, file: str, data: bytes, error: str):
        self.write_file(file, data)
        self.bad.append({"name": name, "file": file, "error": error})


def pillow_bytes(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def pillow_decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def as_array(image: Image.Image) -> np.ndarray:
    """Pillow's decoded samples as numpy (mode "1" as 0/255, 16-bit gray as uint16)."""
    if image.mode == "1":
        return np.asarray(image).astype(np.uint8) * 255
    array = np.asarray(image)
    if image.mode.startswith("I"):
        return array.astype(np.uint16)
    return array


def make_pngs(w: Writer, rng: np.random.Generator):
    # Gray 1/2/4/8/16 bits.
    bits1 = (rng.random((5, 17)) > 0.5).astype(np.uint8) * 255
    data = pillow_bytes(Image.fromarray(bits1, "L").convert("1"), "PNG")
    w.good("png_gray1_17x5", "png", data, as_array(pillow_decode(data)), photometric="gray", source_bit_depth=1)
    for bits, size in ((2, (31, 33)), (4, (5, 17))):
        levels = rng.integers(0, 1 << bits, size=size, dtype=np.uint8)
        data = png_bytes(levels, "gray", bits)
        decoded = as_array(pillow_decode(data))
        assert np.array_equal(decoded, levels.astype(np.uint16) * (255 // ((1 << bits) - 1))), bits
        w.good(f"png_gray{bits}_{size[1]}x{size[0]}", "png", data, decoded, photometric="gray", source_bit_depth=bits)
    gray8 = smooth(rng, 31, 33, 1, 255, 0.05)
    data = pillow_bytes(Image.fromarray(gray8, "L"), "PNG")
    w.good("png_gray8_33x31", "png", data, as_array(pillow_decode(data)), photometric="gray", source_bit_depth=8)
    gray8t = smooth(rng, 5, 17, 1, 255, 0.1)
    data = pillow_bytes(Image.fromarray(gray8t, "L"), "PNG", transparency=int(gray8t[0, 0]))
    w.good("png_gray8_trns_17x5", "png", data, as_array(pillow_decode(data)), photometric="gray", source_bit_depth=8)
    for size in ((31, 33), (1, 1)):
        gray16 = smooth(rng, size[0], size[1], 1, 65535, 0.05)
        data = png_bytes(gray16, "gray", 16)
        assert np.array_equal(as_array(pillow_decode(data)), gray16)
        w.good(f"png_gray16_{size[1]}x{size[0]}", "png", data, gray16, photometric="gray", source_bit_depth=16)

    # Gray + alpha 8/16.
    la8 = smooth(rng, 5, 17, 2, 255, 0.05)
    data = pillow_bytes(Image.fromarray(la8, "LA"), "PNG")
    w.good("png_gray_alpha8_17x5", "png", data, as_array(pillow_decode(data)), photometric="gray_alpha", source_bit_depth=8)
    la16 = smooth(rng, 31, 33, 2, 65535, 0.05)
    w.good("png_gray_alpha16_33x31", "png", png_bytes(la16, "gray_alpha", 16), la16, photometric="gray_alpha", source_bit_depth=16)

    # RGB and RGBA, 8/16.
    for size in ((31, 33), (1, 1)):
        rgb8 = smooth(rng, size[0], size[1], 3, 255, 0.05)
        data = pillow_bytes(Image.fromarray(rgb8, "RGB"), "PNG")
        w.good(f"png_rgb8_{size[1]}x{size[0]}", "png", data, as_array(pillow_decode(data)), photometric="rgb", source_bit_depth=8)
    rgb8t = smooth(rng, 5, 17, 3, 255, 0.1)
    data = pillow_bytes(Image.fromarray(rgb8t, "RGB"), "PNG", transparency=tuple(int(v) for v in rgb8t[0, 0]))
    w.good("png_rgb8_trns_17x5", "png", data, as_array(pillow_decode(data)), photometric="rgb", source_bit_depth=8)
    rgb16 = smooth(rng, 5, 17, 3, 65535, 0.05)
    w.good("png_rgb16_17x5", "png", png_bytes(rgb16, "rgb", 16, idat_parts=3), rgb16, photometric="rgb", source_bit_depth=16)
    rgba8 = smooth(rng, 31, 33, 4, 255, 0.05)
    data = pillow_bytes(Image.fromarray(rgba8, "RGBA"), "PNG")
    w.good("png_rgba8_33x31", "png", data, as_array(pillow_decode(data)), photometric="rgba", source_bit_depth=8)
    rgba16 = smooth(rng, 31, 33, 4, 65535, 0.05)
    w.good("png_rgba16_33x31", "png", png_bytes(rgba16, "rgba", 16), rgba16, photometric="rgba", source_bit_depth=16)

    # Palette 1/2/4/8 bits, with and without tRNS.
    for bits, size, with_trns in ((1, (5, 17), False), (2, (31, 33), True), (4, (31, 33), False),
                                  (4, (5, 17), True), (8, (31, 33), False), (8, (31, 33), True)):
        colors = 1 << bits
        indices = rng.integers(0, colors, size=size, dtype=np.uint8)
        image = Image.frombytes("P", (size[1], size[0]), indices.tobytes())
        image.putpalette(rng.integers(0, 256, size=colors * 3, dtype=np.uint8).tobytes(), "RGB")
        options = {"bits": bits}
        if with_trns:
            # Alpha for only the first entries: the rest are opaque.
            options["transparency"] = rng.integers(0, 256, size=max(1, colors // 2), dtype=np.uint8).tobytes()
        data = pillow_bytes(image, "PNG", **options)
        decoded = pillow_decode(data)
        assert decoded.mode == "P", decoded.mode
        reference = as_array(decoded.convert("RGBA" if with_trns else "RGB"))
        name = f"png_palette{bits}{'_trns' if with_trns else ''}_{size[1]}x{size[0]}"
        w.good(name, "png", data, reference, photometric="palette", source_bit_depth=bits)

    # Adam7 interlacing: 8 and 16 bit, odd sizes, and a sub-8-bit palette.
    rgb8i = smooth(rng, 31, 33, 3, 255, 0.05)
    data = png_bytes(rgb8i, "rgb", 8, interlace=True)
    assert np.array_equal(as_array(pillow_decode(data)), rgb8i)
    w.good("png_interlaced_rgb8_33x31", "png", data, rgb8i, photometric="rgb", source_bit_depth=8, interlaced=True)
    rgba16i = smooth(rng, 5, 17, 4, 65535, 0.05)
    w.good("png_interlaced_rgba16_17x5", "png", png_bytes(rgba16i, "rgba", 16, interlace=True), rgba16i,
           photometric="rgba", source_bit_depth=16, interlaced=True)
    gray16i = smooth(rng, 3, 2, 1, 65535, 0.05)
    data = png_bytes(gray16i, "gray", 16, interlace=True)
    assert np.array_equal(as_array(pillow_decode(data)), gray16i)
    w.good("png_interlaced_gray16_2x3", "png", data, gray16i, photometric="gray", source_bit_depth=16, interlaced=True)
    indices = rng.integers(0, 16, size=(31, 33), dtype=np.uint8)
    palette = rng.integers(0, 256, size=48, dtype=np.uint8).tobytes()
    data = png_bytes(indices, "palette", 4, interlace=True, before_idat=png_chunk(b"PLTE", palette))
    w.good("png_interlaced_palette4_33x31", "png", data, as_array(pillow_decode(data).convert("RGB")),
           photometric="palette", source_bit_depth=4, interlaced=True)

    # A big-endian ("MM") eXIf chunk with orientation 8.
    rgb8e = smooth(rng, 5, 17, 3, 255, 0.05)
    data = png_bytes(rgb8e, "rgb", 8, before_idat=png_chunk(b"eXIf", exif_tiff(8, big_endian=True)))
    decoded = pillow_decode(data)
    assert decoded.getexif().get(0x0112) == 8
    w.good("png_exif_orientation8_17x5", "png", data, as_array(decoded), photometric="rgb", source_bit_depth=8, orientation=8)


def make_jpegs(w: Writer, rng: np.random.Generator):
    gray = smooth(rng, 48, 64, 1, 255, 0.03)
    data = pillow_bytes(Image.fromarray(gray, "L"), "JPEG", quality=90)
    w.good("jpeg_gray_64x48", "jpg", data, as_array(pillow_decode(data)), photometric="gray", source_bit_depth=8)
    for name, size, options in (
        ("jpeg_rgb420_64x48", (48, 64), {"subsampling": 2}),
        ("jpeg_rgb444_64x48", (48, 64), {"subsampling": 0}),
        ("jpeg_rgb422_33x31", (31, 33), {"subsampling": 1}),
        ("jpeg_rgb420_33x31", (31, 33), {"subsampling": 2}),
        ("jpeg_rgb420_1x1", (1, 1), {"subsampling": 2}),
    ):
        rgb = smooth(rng, size[0], size[1], 3, 255, 0.03)
        data = pillow_bytes(Image.fromarray(rgb, "RGB"), "JPEG", quality=85, **options)
        w.good(name, "jpg", data, as_array(pillow_decode(data)), photometric="rgb", source_bit_depth=8)
    rgb = smooth(rng, 48, 64, 3, 255, 0.03)
    data = pillow_bytes(Image.fromarray(rgb, "RGB"), "JPEG", quality=85, progressive=True)
    decoded = pillow_decode(data)
    assert decoded.info.get("progressive") or decoded.info.get("progression")
    w.good("jpeg_progressive_64x48", "jpg", data, as_array(decoded), photometric="rgb", source_bit_depth=8, interlaced=True)
    gray = smooth(rng, 5, 17, 1, 255, 0.03)
    data = pillow_bytes(Image.fromarray(gray, "L"), "JPEG", quality=75, progressive=True)
    w.good("jpeg_gray_progressive_17x5", "jpg", data, as_array(pillow_decode(data)), photometric="gray",
           source_bit_depth=8, interlaced=True)
    # EXIF orientation 6 (little-endian "II" TIFF, as Pillow writes it): displayed 32 x 48.
    rgb = smooth(rng, 32, 48, 3, 255, 0.03)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = pillow_bytes(Image.fromarray(rgb, "RGB"), "JPEG", quality=85, exif=exif.tobytes())
    decoded = pillow_decode(data)
    assert decoded.getexif().get(0x0112) == 6
    w.good("jpeg_exif_orientation6_48x32", "jpg", data, as_array(decoded), photometric="rgb", source_bit_depth=8, orientation=6)


def make_bad(w: Writer, rng: np.random.Generator):
    w.bad_file("empty", "bad_empty.png", b"", "empty")
    w.bad_file("text named .png", "fake.png", b"This is not an image, just a text file named like one.\n", "unrecognized")
    gif = pillow_bytes(Image.fromarray(smooth(rng, 4, 4, 1, 255, 0.1), "L"), "GIF")
    w.bad_file("GIF named .png", "bad_gif.png", gif, "unrecognized")
    w.bad_file("DICOM", "bad_dicom.dcm", bytes(128) + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00\x00\x00\x00\x00", "unsupported")

    rgb = smooth(rng, 48, 48, 3, 255, 0.2)
    png = pillow_bytes(Image.fromarray(rgb, "RGB"), "PNG")
    idat = next(c for c in png_chunks(png) if c[0] == b"IDAT")
    _, _, data_start, length = idat
    w.bad_file("PNG cut in the middle of IDAT", "bad_truncated.png", png[: data_start + length // 2], "truncated")
    w.bad_file("PNG cut inside the signature", "bad_truncated_signature.png", png[:5], "truncated")
    w.bad_file("PNG cut after IHDR", "bad_truncated_header.png", png[:33], "truncated")
    iend = next(c for c in png_chunks(png) if c[0] == b"IEND")
    w.bad_file("PNG without IEND", "bad_missing_iend.png", png[: iend[1]], "truncated")
    flipped = bytearray(png)
    flipped[data_start + length // 2] ^= 0x01
    w.bad_file("PNG with a flipped byte in IDAT (CRC error)", "bad_crc.png", bytes(flipped), "corrupt")
    huge_ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    huge_png = PNG_SIGNATURE + png_chunk(b"IHDR", huge_ihdr) + png[33:]
    w.bad_file("PNG header claiming 60000x60000", "bad_huge.png", huge_png, "too_large")

    jpeg = pillow_bytes(Image.fromarray(rgb, "RGB"), "JPEG", quality=90)
    sos = jpeg.index(b"\xff\xda")
    w.bad_file("JPEG cut in the middle of the scan", "bad_truncated.jpg", jpeg[: (sos + len(jpeg)) // 2], "truncated")
    w.bad_file("JPEG cut inside the header", "bad_truncated_header.jpg", jpeg[: sos // 2], "truncated")
    sof = jpeg.index(b"\xff\xc0")
    huge = bytearray(jpeg)
    huge[sof + 5: sof + 9] = struct.pack(">HH", 60000, 60000)
    w.bad_file("JPEG header claiming 60000x60000", "bad_huge.jpg", bytes(huge), "too_large")
    # A restart marker where no restart interval was declared: libjpeg warns "Corrupt JPEG data".
    middle = (sos + len(jpeg)) // 2
    marker = bytearray(jpeg)
    marker[middle: middle + 2] = b"\xff\xd3"
    w.bad_file("JPEG with a stray marker in the scan", "bad_marker.jpg", bytes(marker), "corrupt")
    cmyk = Image.fromarray(smooth(rng, 16, 16, 4, 255, 0.05), "CMYK")
    w.bad_file("CMYK JPEG", "bad_cmyk.jpg", pillow_bytes(cmyk, "JPEG", quality=90), "unsupported")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", help="directory to write into (created if missing)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (the committed set uses 0)")
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    writer = Writer(args.out_dir)
    make_pngs(writer, rng)
    make_jpegs(writer, rng)
    make_bad(writer, rng)
    manifest = {
        "generator": "tools/make-image-fixtures.py",
        "seed": args.seed,
        "reference_format": "raw samples, row-major, interleaved; 16-bit little-endian",
        "images": writer.images,
        "bad": writer.bad,
    }
    with open(os.path.join(args.out_dir, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, indent=1)
        handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
