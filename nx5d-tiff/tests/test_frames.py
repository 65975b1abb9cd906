"""Frame loading: the strip-TIFF fast path, fallbacks, regions, missing and corrupt files."""

import io
import os
import zlib

import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nx5d.errors import CorruptDataError, MissingDataError, NotSupportedError, OptionError
from nx5d.io.frames import MISSING_VALUE, Region
from nx5d.io.limits import MAX_INFLATION
from nx5d.io.storage import Storage, record_io
from nx5d_tiff.files import lazy_frames, load_frames
from nx5d_tiff.tiff import decode_frame, image_shape, parse_tiff, tifffile_fallback


def frame(seed, shape=(195, 487), dtype=np.int32):
    rng = np.random.default_rng(seed)
    out = np.zeros(shape, dtype)
    out.flat[rng.choice(out.size, 300, replace=False)] = rng.integers(1, 100, 300).astype(dtype)
    out[0, 0] = -2 if np.issubdtype(dtype, np.signedinteger) else 7
    return out


def tiff_bytes(array, **kwargs):
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, **kwargs)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"compression": "zlib"},
        {"compression": None},
        {"compression": "zlib", "rowsperstrip": 7},
        {"compression": None, "byteorder": ">"},
        {"compression": "zlib", "byteorder": ">"},
        {"compression": "zlib", "description": "# Pixel_size 172e-6 m x 172e-6 m"},
    ],
)
@pytest.mark.parametrize("dtype", [np.int32, np.uint16, np.float32])
def test_fast_path_matches_tifffile(kwargs, dtype):
    array = frame(1, dtype=dtype)
    data = tiff_bytes(array, **kwargs)
    assert parse_tiff(data) is not None
    decoded = decode_frame(data, "x.tif")
    assert decoded.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(decoded, array)


@pytest.mark.parametrize("kwargs", [{"compression": "zlib", "predictor": True}, {"tile": (64, 64)}, {"bigtiff": True}])
def test_other_tiffs_go_to_the_fallback(kwargs):
    array = frame(2, shape=(128, 192))
    data = tiff_bytes(array, **kwargs)
    assert parse_tiff(data) is None
    with pytest.raises(CorruptDataError, match="not an image this loader can read"):
        decode_frame(data, "x.tif")
    np.testing.assert_array_equal(decode_frame(data, "x.tif", lambda b: tifffile.imread(io.BytesIO(b))), array)


def test_corrupt_files_are_reported_with_their_name():
    data = tiff_bytes(frame(3), compression="zlib")
    with pytest.raises(CorruptDataError, match=r"broken\.tif"):
        decode_frame(data[: len(data) // 2], "broken.tif")
    garbled = bytearray(data)
    layout = parse_tiff(data)
    garbled[layout.offsets[0] : layout.offsets[0] + 20] = b"\xff" * 20
    with pytest.raises(CorruptDataError, match=r"garbled\.tif"):
        decode_frame(bytes(garbled), "garbled.tif")
    with pytest.raises(CorruptDataError, match=r"noise\.tif"):
        decode_frame(b"definitely not an image", "noise.tif", lambda b: tifffile.imread(io.BytesIO(b)))


@pytest.fixture
def scan(tmp_path):
    frames = [frame(i) for i in range(40)]
    urls = []
    for i, f in enumerate(frames):
        path = tmp_path / f"image{i:05d}.tif"
        tifffile.imwrite(path, f, compression="zlib" if i % 3 else None)
        urls.append(f"file://{path}")
    return np.stack(frames), urls


@pytest.mark.parametrize("workers", [1, 3])
def test_load_frames(scan, workers):
    expected, urls = scan
    with record_io() as io_:
        loaded = load_frames(Storage(), urls, workers=workers)
    np.testing.assert_array_equal(loaded.data, expected)
    assert loaded.frame_shape == (195, 487)
    assert not loaded.missing.any()
    assert io_.files_opened == len(urls) + 1  # each once, the first twice (to learn the shape)


@pytest.mark.parametrize(
    ("roi", "reduce"),
    [(None, 2), (None, 10), ((10, 100, 200, 400), 1), ((10, 100, None, 400), 3), ((None, -5, 7, None), 4)],
)
def test_regions_and_strides(scan, roi, reduce):
    expected, urls = scan
    region = Region(roi, reduce)
    loaded = load_frames(Storage(), urls, region=region)
    r0, r1, c0, c1 = roi or (None, None, None, None)
    np.testing.assert_array_equal(loaded.data, expected[:, r0:r1:reduce, c0:c1:reduce])
    assert loaded.frame_shape == (195, 487)


def test_bad_regions_are_refused():
    with pytest.raises(OptionError, match="reduce"):
        Region(None, 0)
    with pytest.raises(OptionError, match="roi"):
        Region((1, 2), 1)
    with pytest.raises(OptionError, match="selects no pixels"):
        Region((50, 10, 0, 5)).slices((100, 100))


def test_missing_frames_raise_or_are_masked(scan, tmp_path):
    expected, urls = scan
    (tmp_path / "image00007.tif").unlink()
    with pytest.raises(MissingDataError, match=r"frame 7: .*image00007\.tif does not exist"):
        load_frames(Storage(), urls)
    with pytest.warns(UserWarning, match=r"1 of 40 frames are missing \(first: .*image00007\.tif\)"):
        loaded = load_frames(Storage(), urls, missing="mask")
    assert loaded.missing.tolist() == [i == 7 for i in range(40)]
    assert (loaded.data[7] == MISSING_VALUE).all()
    np.testing.assert_array_equal(loaded.data[8:], expected[8:])
    with pytest.raises(OptionError, match="missing"):
        load_frames(Storage(), urls, missing="ignore")


def test_frames_of_other_shape_are_corrupt(scan, tmp_path):
    _, urls = scan
    tifffile.imwrite(tmp_path / "image00003.tif", np.zeros((10, 10), np.int32))
    with pytest.raises(CorruptDataError, match=r"image00003\.tif \(frame 3\) has shape \(10, 10\)"):
        load_frames(Storage(), urls)


def test_lazy_frames_equal_eager(scan):
    expected, urls = scan
    lazy = lazy_frames(Storage(), urls, region=Region((5, 150, 20, 300), 2), chunk=16)
    assert lazy.data.chunks[0] == (16, 16, 8)
    with record_io() as io_:
        part = lazy.data[17:19].compute()
    assert io_.files_opened == 16  # only the block holding frames 17 and 18 was read
    np.testing.assert_array_equal(part, expected[17:19, 5:150:2, 20:300:2])
    np.testing.assert_array_equal(lazy.data.compute(), expected[:, 5:150:2, 20:300:2])


def _write_scan(tmp_path, frames):
    urls = []
    for i, f in enumerate(frames):
        path = tmp_path / f"image{i:05d}.tif"
        tifffile.imwrite(path, f)
        urls.append(f"file://{path}")
    return urls


@pytest.mark.parametrize(
    ("first", "later"),
    [
        (np.int32, np.full((4, 5), 3_000_000_000, np.uint32)),  # would wrap to -1294967296
        (np.int32, np.full((4, 5), 2**40, np.int64)),  # would wrap to 0
        (np.int32, np.full((4, 5), 1.7, np.float64)),  # would be truncated to 1
        (np.uint16, np.full((4, 5), -2, np.int32)),  # a Pilatus gap marker into unsigned frames
        (np.float32, np.full((4, 5), 1 + 2**-30, np.float64)),  # rounded away in float32
        (np.int32, np.full((4, 5), np.nan, np.float32)),  # NaN has no integer
    ],
)
def test_a_frame_whose_values_do_not_fit_the_scans_type_is_refused(tmp_path, first, later):
    urls = _write_scan(tmp_path, [np.ones((4, 5), first), later])
    for load in (load_frames, lambda s, u: lazy_frames(s, u).data.compute()):
        with pytest.raises(CorruptDataError, match=r"image00001\.tif \(frame 1\) holds .* converting would change"):
            load(Storage(), urls)


@pytest.mark.parametrize(
    "later",
    [
        np.full((4, 5), 60000, np.uint16),  # safe: every uint16 fits int32
        np.full((4, 5), 2_000_000_000, np.uint32),  # unsafe type, but these values fit
        np.full((4, 5), 12.0, np.float64),  # whole numbers
        np.full((4, 5), -2, np.int64),
    ],
)
def test_frames_of_another_type_whose_values_fit_load_exactly(tmp_path, later):
    urls = _write_scan(tmp_path, [np.ones((4, 5), np.int32), later])
    loaded = load_frames(Storage(), urls).data
    assert loaded.dtype == np.int32
    np.testing.assert_array_equal(loaded[1], later)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.sampled_from([np.int16, np.uint16, np.int32, np.uint32, np.float32]),
    later=st.sampled_from([np.int16, np.uint16, np.int32, np.uint32, np.int64, np.float32, np.float64]),
    value=st.one_of(st.integers(-(2**40), 2**40), st.floats(allow_nan=True, allow_infinity=False, width=32)),
)
def test_any_mixture_of_frame_types_loads_exactly_or_is_refused(tmp_path, first, later, value):
    with np.errstate(invalid="ignore", over="ignore"):
        frame_values = np.full((3, 4), value).astype(later)
    if not np.array_equal(frame_values, np.full((3, 4), value), equal_nan=True):
        return  # the value cannot even be written in this type
    urls = _write_scan(tmp_path, [np.zeros((3, 4), first), frame_values])
    number = frame_values.flat[0].item()
    if np.issubdtype(first, np.integer):
        exact = float(number).is_integer() and np.iinfo(first).min <= number <= np.iinfo(first).max
    else:
        exact = np.array(number, first).item() == number or number != number  # NaN stays NaN
    if exact:
        loaded = load_frames(Storage(), urls).data
        assert loaded.dtype == np.dtype(first)
        np.testing.assert_array_equal(loaded[1], frame_values)
    else:
        with pytest.raises(CorruptDataError, match=r"image00001\.tif"):
            load_frames(Storage(), urls)


@pytest.mark.parametrize(("stored", "loaded"), [(np.uint16, np.int32), (np.uint32, np.int64), (np.int16, np.int16)])
def test_masked_missing_frames_of_unsigned_scans_hold_minus_one_without_wrapping(tmp_path, stored, loaded):
    top = np.iinfo(stored).max
    urls = _write_scan(tmp_path, [np.full((4, 5), top, stored), np.full((4, 5), top, stored)])
    urls.append(urls[0].replace("image00000", "image00099"))  # absent
    with pytest.warns(UserWarning, match="1 of 3 frames are missing"):
        frames = load_frames(Storage(), urls, missing="mask")
    assert frames.data.dtype == np.dtype(loaded)
    assert (frames.data[:2] == top).all()
    assert (frames.data[2] == MISSING_VALUE).all()
    assert frames.missing.tolist() == [False, False, True]


# --- hostile and damaged headers ----------------------------------------------


def strip_tiff(width, height, strips, *, bits=32, compression=1, counts=None, rows_per_strip=None, zero_count=None):
    """A little-endian single-image strip TIFF written by hand, so that its header can say anything."""
    import struct

    counts = [len(s) for s in strips] if counts is None else counts
    body = b"".join(strips)
    n_strips = len(strips)
    entries = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, bits),
        (259, 3, 1, compression),
        (277, 3, 1, 1),
        (278, 4, 1, rows_per_strip or height),
        (339, 3, 1, 2),
    ]
    ifd_at = 8 + len(body)
    arrays_at = ifd_at + 2 + 12 * (len(entries) + 2) + 4
    offsets, at = [], 8
    for s in strips:
        offsets.append(at)
        at += len(s)
    entries += [(273, 4, n_strips, arrays_at), (279, 4, n_strips, arrays_at + 4 * n_strips)]
    if n_strips == 1:
        entries[-2], entries[-1] = (273, 4, 1, offsets[0]), (279, 4, 1, counts[0])
    entries.sort()
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd_at) + body)
    out += struct.pack("<H", len(entries))
    for tag, kind, n, value in entries:
        if tag == zero_count:
            n = 0
        packed = struct.pack("<I", value) if kind == 4 else struct.pack("<HH", value, 0)
        out += struct.pack("<HHI", tag, kind, n) + packed
    out += struct.pack("<I", 0)
    if n_strips > 1:
        out += struct.pack(f"<{n_strips}I", *offsets) + struct.pack(f"<{n_strips}I", *counts)
    return bytes(out)


def test_the_hand_written_tiff_is_a_tiff():
    frame = np.arange(12, dtype=np.int32).reshape(3, 4)
    data = strip_tiff(4, 3, [frame.tobytes()])
    np.testing.assert_array_equal(decode_frame(data, "ok.tif"), frame)
    np.testing.assert_array_equal(tifffile.imread(io.BytesIO(data)), frame)


@pytest.mark.parametrize("fallback", [None, tifffile_fallback])
def test_a_tiny_file_claiming_a_gigantic_frame_is_refused_before_allocating(fallback):
    data = strip_tiff(100_000, 100_000, [bytes(2000)])  # 37 GiB claimed in 2 kB
    with pytest.raises(CorruptDataError, match=r"bomb\.tif .*100000 x 100000"):
        decode_frame(data, "bomb.tif", fallback)
    # dimensions whose product overflows 64 bits (found by hypothesis): the size must not wrap around
    data = strip_tiff(2**32 - 1, 2**32 - 1, [bytes(2000)])
    with pytest.raises(CorruptDataError, match=r"bomb\.tif .*4294967295 x 4294967295"):
        decode_frame(data, "bomb.tif", fallback)
    data = strip_tiff(5000, 4000, [zlib.compress(bytes(1000))], compression=8)  # 80 MB from 20 bytes
    with pytest.raises(CorruptDataError, match=r"bomb\.tif .*header is damaged"):
        decode_frame(data, "bomb.tif", fallback)


@pytest.mark.parametrize("inflater", ["imagecodecs", "zlib"])
def test_a_deflate_bomb_stops_at_the_frame_size(inflater, monkeypatch):
    from nx5d_tiff import tiff

    if inflater == "zlib":
        monkeypatch.setattr(tiff, "_deflate_into", None)
    elif tiff._deflate_into is None:
        pytest.skip("imagecodecs is not installed")
    payload = zlib.compress(bytes(100_000_000), 9)  # 100 MB of zeros in ~100 kB, for a 256 kB frame
    data = strip_tiff(256, 256, [payload], compression=8)
    message = r"bomb\.tif: image (strip holds 262145 bytes, 262144 expected|data cannot be decompressed)"
    with pytest.raises(CorruptDataError, match=message):
        decode_frame(data, "bomb.tif")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"counts": [10]}, r"strip holds 10 bytes, 48 expected"),  # StripByteCounts too small
        ({"counts": [10_000]}, r"truncated"),  # more bytes than the file has
        ({"zero_count": 256}, r"not an image this loader can read"),  # a tag with no values
        ({"zero_count": 273}, r"not an image this loader can read"),
        ({"rows_per_strip": 1}, r"strips cover 16 of 48 bytes"),
    ],
)
def test_damaged_strip_headers_name_the_file(kwargs, message):
    frame = np.arange(12, dtype=np.int32).reshape(3, 4)
    data = strip_tiff(4, 3, [frame.tobytes()], **kwargs)
    with pytest.raises(CorruptDataError, match=rf"damaged\.tif.*{message}|{message}.*damaged\.tif"):
        decode_frame(data, "damaged.tif")


@settings(max_examples=300, deadline=None)
@given(
    edits=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=6),
    compression=st.sampled_from([1, 8]),
    fallback=st.sampled_from([None, tifffile_fallback]),
)
def test_any_damage_to_a_header_decodes_a_sane_frame_or_names_the_file(edits, compression, fallback):
    frame = np.arange(40 * 30, dtype=np.int32).reshape(40, 30)
    body = frame.tobytes() if compression == 1 else zlib.compress(frame.tobytes())
    data = bytearray(strip_tiff(30, 40, [body], compression=compression))
    ifd = int.from_bytes(data[4:8], "little")
    for at, value in edits:  # damage the image file directory, where sizes and offsets are
        data[min(ifd + at, len(data) - 1)] = value
    decoded, refused = None, None
    try:
        decoded = decode_frame(bytes(data), "damaged.tif", fallback)
    except (CorruptDataError, NotSupportedError) as exc:  # the only ways it may fail (a next image: not supported)
        refused = str(exc)
    if refused is not None:
        assert "damaged.tif" in refused
    else:
        assert decoded.nbytes <= MAX_INFLATION * len(data)


def test_loading_more_frames_than_memory_holds_says_what_to_do(scan, monkeypatch):
    from nx5d.io import limits

    _, urls = scan
    monkeypatch.setattr(limits, "available_memory", lambda: 1_000_000)  # a machine with 1 MB of memory free
    with pytest.raises(OptionError, match=r"the 40 frames from .*image00000\.tif .* lazily \(lazy=True\)"):
        load_frames(Storage(), urls)
    assert lazy_frames(Storage(), urls).data.shape == (40, 195, 487)  # lazily they load
    assert load_frames(Storage(), urls, region=Region((0, 20, 0, 20))).data.shape == (40, 20, 20)


def test_a_later_frame_of_another_shape_is_refused_before_it_is_inflated(scan, tmp_path, monkeypatch):
    """A 1.6 GB frame that deflates from 1.6 MB passes the size limits; its shape alone must stop it."""
    from nx5d_tiff import tiff

    _, urls = scan
    inflated = []
    real = tiff._inflate
    monkeypatch.setattr(tiff, "_inflate", lambda src, dst: inflated.append(dst.nbytes) or real(src, dst))
    rows = zlib.compress(bytes(20_000 * 4 * 1000), 9)  # 1,000 rows of zeros per strip
    (tmp_path / "image00003.tif").write_bytes(
        strip_tiff(20_000, 20_000, [rows] * 20, compression=8, rows_per_strip=1000)
    )
    with pytest.raises(CorruptDataError, match=r"image00003\.tif \(frame 3\) has shape \(20000, 20000\)"):
        load_frames(Storage(), urls, workers=1)
    assert max(inflated, default=0) < 195 * 487 * 4 + 1  # no strip of the big frame was inflated


@pytest.mark.parametrize("compression", [None, "zlib", "lzw"])  # lzw: tifffile's path
def test_a_frame_file_with_several_images_is_refused_never_read_as_its_first(tmp_path, compression):
    path = tmp_path / "image00000.tif"
    with tifffile.TiffWriter(path) as tif:
        for seed in range(2):
            tif.write(frame(seed), compression=compression)
    with pytest.raises(NotSupportedError, match=r"image00000\.tif(.* more than one image|: the file holds 2 images)"):
        load_frames(Storage(), [f"file://{path}"], fallback=tifffile_fallback)
    with pytest.raises(NotSupportedError, match=r"image00000\.tif"):
        decode_frame(path.read_bytes(), str(path), tifffile_fallback)


@given(
    rows=st.integers(1, 300),
    cols=st.integers(1, 300),
    dtype=st.sampled_from(["u1", "u2", "i4", "f4"]),
    order=st.sampled_from(["<", ">"]),
    compression=st.sampled_from([None, "zlib"]),
)
@settings(max_examples=40, deadline=None)
def test_image_shape_reads_rows_and_columns_from_the_header_alone(rows, cols, dtype, order, compression):
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.zeros((rows, cols), dtype), byteorder=order, compression=compression)
    data = buffer.getvalue()
    assert image_shape(data[:1024]) == (rows, cols)  # the directory follows the 8-byte header
    assert image_shape(data[:12]) is None  # a head that ends inside the directory tells nothing
    assert tifffile.imread(io.BytesIO(data)).shape == (rows, cols)


@given(st.binary(max_size=600))
@settings(deadline=None)  # one slow example on a loaded machine says nothing of the code
def test_image_shape_of_anything_else_is_none_or_a_shape_never_an_error(data):
    shape = image_shape(data)
    assert shape is None or (len(shape) == 2 and min(shape) > 0)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this system")
def test_load_frames_decodes_with_one_thread_per_usable_cpu(scan, monkeypatch):
    """A job given fewer CPUs than the machine has (affinity, as a batch system sets it) starts fewer threads."""
    import concurrent.futures

    import nx5d_tiff.files

    sizes = []

    class Recorded(concurrent.futures.ThreadPoolExecutor):
        def __init__(self, max_workers, *args, **kwargs):
            sizes.append(max_workers)
            super().__init__(max_workers, *args, **kwargs)

    monkeypatch.setattr(nx5d_tiff.files, "ThreadPoolExecutor", Recorded)
    _, urls = scan
    everything = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(everything)})
    try:
        load_frames(Storage(), urls)
    finally:
        os.sched_setaffinity(0, everything)
    assert sizes == [1]
