"""Beamline plugins: the contract (hooks and declarations), discovery, selection and the core's fallbacks."""
