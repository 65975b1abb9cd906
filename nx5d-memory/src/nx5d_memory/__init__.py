"""nx5d-memory: the in-memory beamline.

Register datasets in-process and open them like any beamline:

    import nx5d, nx5d_memory
    url = nx5d_memory.register("demo", {"p1": {"s1": dataset}})
    repo = nx5d.open(url)              # "memory://demo/{proposal}/{scan}"

It is the smallest complete beamline plugin and the template for new ones.
"""

from .store import MemoryRepository, lookup, register, registered, unregister

__all__ = ["register", "unregister", "registered", "lookup", "MemoryRepository"]
