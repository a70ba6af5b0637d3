"""The oracle: an independent reconstruction (PtyLab's ePIE) of each side's data, for a "data vs network" verdict.

Optional: needs the extra `oracle` (pip install '.[oracle]'); without it the plugin is skipped (harness/manager.py).
"""
