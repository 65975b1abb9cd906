"""The subclassing API: write a beamline as three classes.

``nx5d.repo.base`` holds the generic repository / proposal / scan classes,
``nx5d.repo.filesystem`` the ones that list storage from a URL pattern.  They
are the same classes [`nx5d.open`][nx5d.open] returns, so subclasses get listing,
handles, caching, spice and the Jupyter display for free.
"""
