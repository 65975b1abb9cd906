# The "Minimal, Purely In-Memory Example" of the reference page
# (shared/reference/nx5d-loading-data.txt), pasted unchanged.

from nx5d.repo.base import DataScanBase, DataProposalBase, DataRepoBase


class SimpleScan(DataScanBase):
    def __init__(self, parent_proposal, scan_key):
        super().__init__(parent_proposal, scan_key)
        self._parent_prop = parent_proposal

    def _get_summary(self):
        return {"type": "default_type", "description": "Nonsensical Demo Scan Class"}

    def _get_raw(self):
        return (self._parent_prop.key, self.key)

    def _cook(self, data, **spice):
        return tuple([d.upper() for d in data])


class SimpleProposal(DataProposalBase):
    def __init__(self, repo, key):
        self._scans = [f"{key[0]}{i}" for i in range(4)]
        super().__init__(repo, key)

    def all(self):
        return {k: k for k in self._scans}

    def _scan(self, scan_key):
        return SimpleScan(self, scan_key)


class SimpleRepository(DataRepoBase):
    def __init__(self):
        self._proposals = ["alpha", "bravo", "charlie"]
        super().__init__(url="memory")

    def all(self):
        return {k: k for k in self._proposals}

    def _proposal(self, proposal_key):
        return SimpleProposal(self, proposal_key)
