"""Benchmark: loading and cooking the reference page's UDKM scan (5187 Pilatus frames).

Compares, in one run on one generated scan:

(a) raw load: the reference page's ``fs_load_data`` loop vs ``scan.load()``;
(c) the floors: reading the files' bytes only, and decoding every frame on one
    core (libdeflate, into an already allocated array) -- ours vs those;
    peak memory of our load vs the size of the int32 image array;
(b) cooking: the page's approach (xrayutilities Ang2Q + FuzzyGridder2D per
    delay) vs ``scan.cook()`` on the same common grid, with the maximum
    difference between the maps.

Run with ``nox -s bench`` (``--quick``: 126 frames, one run each, as CI runs
it).  Timings are the best and the median of several repetitions after a
warm-up (file cache, memory); ratios are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

os.environ.setdefault("NX5D_PROGRESS", "0")
os.environ["NX5D_INDEX"] = "off"  # the scan index remembers summaries across sessions: not what is measured here
os.environ.setdefault("NX5D_COOKED_CACHE", "0")  # every way computes its result


def timed(function, repeat):
    times, result = [], None
    for _ in range(repeat):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def page_fs_load_data(scan_path, reduce=1):
    """The reference page's loader (In [1]), as printed there."""
    import re

    import numpy
    import pandas
    import tifffile
    import xarray

    tab = pandas.read_csv(f"{scan_path}/manifest.dat", sep="\t")
    result = xarray.Dataset({re.sub("[][%/ ]", "", k): ("index", tab[k]) for k in tab})
    result["images"] = (
        ("index", "w", "h"),
        numpy.stack([tifffile.imread(f"{scan_path}/image{i:05d}.tiff")[::reduce, ::reduce] for i in range(len(tab))]),
    )
    return result


def page_cook(raw, grid, settings):
    """The page's per-delay cook (In [32]) at full resolution, gridding onto our common grid."""
    import xarray
    import xrayutilities

    qconv = xrayutilities.experiment.QConversion(
        sampleAxis=("y-",), detectorAxis=("y-",), r_i=(1, 0, 0), en=settings["energy"]
    )
    hxrd = xrayutilities.HXRD(qconv=qconv, idir=(1, 0, 0), ndir=(0, 1, 0), en=settings["energy"])
    hxrd.Ang2Q.init_area(
        "y-", "z+", *settings["img_center"], *raw.images.shape[1:],
        pwidth1=settings["pixel_size"], pwidth2=settings["pixel_size"], distance=settings["img_distance"],
    )  # fmt: skip

    def per_delay(delay_data):
        _, qy, qz = hxrd.Ang2Q.area(delay_data.Theta.values, delay_data.Theta.values * 2)
        gridder = xrayutilities.FuzzyGridder2D(*settings["grid_size"])
        gridder.dataRange(grid.axes[0].start, grid.axes[0].stop, grid.axes[1].start, grid.axes[1].stop)
        gridder(qy, qz, delay_data.images.values)
        return xarray.Dataset({"qdata": (("qy", "qz"), gridder.data)})

    return raw.groupby("Delay").map(per_delay)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder for the generated scan (default: a temporary folder)")
    parser.add_argument("--frames", type=int, default=5187, help="frames of the scan (5187: the reference scan's)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="126 frames, one run of each way (seconds; for CI)")
    args = parser.parse_args()
    if args.quick:
        args.frames, args.repeat = 126, 1

    import imagecodecs

    import nx5d
    from nx5d.recipes.cook import cook_with_recipes
    from nx5d.spice.values import as_settings
    from nx5d_rsm import Grid
    from nx5d_tiff.tiff import decode_strips, parse_tiff
    from nx5d_udkm.cook import COOKING
    from nx5d_udkm.synth import ScanSpec, write_repository

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.data or tmp) / f"frames{args.frames}"
        folder = root / "20210205" / "091726"
        if not (folder / "manifest.dat").exists():
            start = time.perf_counter()
            write_repository(root, {"20210205": ["091726"]}, ScanSpec(frames=args.frames))
            print(f"generated the scan ({args.frames} frames) in {time.perf_counter() - start:.1f} s")
        files = sorted(folder.glob("image*.tiff"))
        blobs = [f.read_bytes() for f in files]  # warm the file cache
        print(f"{len(files)} frames, {sum(map(len, blobs)) / len(blobs):.0f} bytes per compressed TIFF on average")
        repo = nx5d.open(f"file://{root}/{{proposal}}/{{scan}}", spice_url="")
        scan = repo.p20210205.r091726

        # warm-up: allocate and release an array of the raw size once (first-touch page faults)
        warm = np.ones((len(files), 195, 487), np.int32)
        del warm

        def ours():
            scan.reload()
            return scan.load()

        page_best, page_median, _ = timed(lambda: page_fs_load_data(str(folder)), args.repeat)
        ours_best, ours_median, raw = timed(ours, args.repeat)
        io_best, io_median, _ = timed(lambda: [f.read_bytes() for f in files], args.repeat)
        layouts = [parse_tiff(b) for b in blobs]
        target = np.ones((len(files), 195, 487), np.int32)

        def decode_all(into):
            for i, blob in enumerate(blobs):
                decode_strips(blob, layouts[i], into[i], "frame")

        decode_best, decode_median, _ = timed(functools.partial(decode_all, target), args.repeat)
        del target
        scan.reload()
        gc.collect()
        tracemalloc.start()
        raw = scan.load()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        image_bytes = raw.images.nbytes

        print()
        print(f"imagecodecs {imagecodecs.__version__}, {os.cpu_count()} CPUs")
        print(f"raw load of {len(files)} frames (best / median of {args.repeat})")
        print(f"  reference page's fs_load_data loop   {page_best:7.3f} s / {page_median:7.3f} s")
        print(f"  nx5d-udkm scan.load()                 {ours_best:7.3f} s / {ours_median:7.3f} s")
        print(f"  reading the files' bytes only         {io_best:7.3f} s / {io_median:7.3f} s")
        print(f"  decoding all frames on one core       {decode_best:7.3f} s / {decode_median:7.3f} s")
        print(f"  speed-up over the page's loop         {page_best / ours_best:7.1f} x (best), "
              f"{page_median / ours_median:.1f} x (median)")  # fmt: skip
        print(f"  ours / single-core decode floor       {ours_best / decode_best:7.2f} (best), "
              f"{ours_median / decode_median:.2f} (median)")  # fmt: skip
        print(f"  ours / I/O floor                      {ours_best / io_best:7.1f}")
        print(f"  peak memory / image array             {peak / image_bytes:7.3f} ({peak / 2**30:.2f} GiB)")

        settings = {
            "img_center": (97.0, 241.0), "img_distance": 680.0, "grid_size": (80, 150), "energy": 8048.0,
            "pixel_size": 0.172, "mask_negative": False,
        }  # fmt: skip
        spice = {"settings": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}}
        schemas = repo.declaration.spice_schemas()

        def ours_cook():
            return cook_with_recipes(
                raw, as_settings(spice), summary=scan.summary, cooking=COOKING, schemas=schemas, where=scan.url
            )

        ours_cook_best, ours_cook_median, cooked = timed(ours_cook, args.repeat)
        grid = Grid.covering([cooked.qy.values, cooked.qz.values], settings["grid_size"])
        page_raw = page_fs_load_data(str(folder))  # the page cooks what its loader made (its names)
        page_cook_best, _, page = timed(lambda: page_cook(page_raw, grid, settings), 1)
        measured = cooked.weight.values > 0  # elsewhere the page's gridder says 0 and nx5d NaN
        difference = float(np.abs(page.qdata.values[measured] - cooked.qdata.values[measured]).max())
        scale = float(np.abs(page.qdata.values).max())
        print()
        print(f"cooking reciprocal space maps: {page.sizes['Delay']} delays, 80 x 150 grid, full resolution")
        print(f"  page's per-delay FuzzyGridder2D       {page_cook_best:7.3f} s (one run)")
        print(f"  nx5d-udkm cook                        {ours_cook_best:7.3f} s / {ours_cook_median:7.3f} s")
        print(f"  speed-up                              {page_cook_best / ours_cook_best:7.1f} x")
        print(f"  largest map difference                {difference:.2e} (maps reach {scale:.3g})")


if __name__ == "__main__":
    main()
