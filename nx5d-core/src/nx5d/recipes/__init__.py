"""Cooking recipes shared by beamlines: what a cook does once the beamline has found its data."""
