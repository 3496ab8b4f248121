"""Whole-corpus runs on Ray: the Pile audit and BPB split into resumable units.

`engine.run_units` is the driver loop (skip completed units, submit the rest, whose workers store
each result atomically in the run folder, merge from the folder, progress, Ctrl-C); `audit` and
`bpb` define their units and their exact merges. Ray is optional
(``pip install 'segpile-lab[ray]'``) and imported only here, through `_ray.require_ray`.
"""
