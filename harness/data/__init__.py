"""Data files in and out: PtychoPINN NPZ and ptychodus HDF5 products as harness datasets (issue 12)."""
