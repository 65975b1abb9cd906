"""nx5d-results: cooked results written to files, one scan or a proposal at a time.

* [`nx5d_results.batch`][nx5d_results.batch] -- many scans cooked into files (``nx5d cook``);
* [`nx5d_results.export`][nx5d_results.export] -- raw or cooked scans exported (``nx5d export``);
* [`nx5d_results.files`][nx5d_results.files] -- the file writers.
"""
