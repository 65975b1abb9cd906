"""nx5d-index: the scan index and searching a beamtime.

* [`nx5d_index.extension`][nx5d_index.extension] -- the extension
  ``scan_index`` (entry point group ``nx5d.extensions``): listings and
  summaries kept across sessions in SQLite or on a PostgreSQL server,
  ``nx5d.scan_index``;
* [`nx5d_index.database`][nx5d_index.database] -- the table under it;
* [`nx5d_index.search`][nx5d_index.search] and
  [`nx5d_index.query`][nx5d_index.query] -- ``repo.search(...)`` and
  ``proposal.search(...)``;
* [`nx5d_index.command`][nx5d_index.command] -- ``nx5d search``.

Without this distribution, nx5d lists and summarises from the files each
time, and searching says what to install.
"""
