"""nx5d-tiff: detector frames stored one TIFF file per frame.

* [`nx5d_tiff.tiff`][nx5d_tiff.tiff] -- decoding one frame;
* [`nx5d_tiff.files`][nx5d_tiff.files] -- a scan's frames, eagerly or lazily.
"""
