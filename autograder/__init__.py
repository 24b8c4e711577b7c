"""Release, collect, grade (sandboxed, on Dask), verify and export a CS231n course."""

__version__ = "0.1.0"
