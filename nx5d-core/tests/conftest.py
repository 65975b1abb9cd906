import pytest
from hypothesis import settings

import nx5d_memory

from .helpers import make_scan, scale_cook

# no time limit per example: one slow example on a loaded CI machine says nothing of the code tested
settings.register_profile("nx5d", deadline=None)
settings.load_profile("nx5d")


@pytest.fixture
def memory_url(request):
    name = f"test-{request.node.name}".replace("[", "-").replace("]", "")[:60]
    url = nx5d_memory.register(
        name,
        {
            "20210205": {"091726": make_scan(5), "9": make_scan(3, 1.0), "10": make_scan(4, 2.0)},
            "20210301": {"1": make_scan(2)},
        },
        cook=scale_cook,
        spice={"scale": {"factor": 2.0}},
    )
    yield url
    nx5d_memory.unregister(name)
