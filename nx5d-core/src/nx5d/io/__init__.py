"""Reading data: storage access (local and fsspec), detector frames, HDF5 documents, SPEC files."""
