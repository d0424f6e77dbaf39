"""hashrisk: Bitcoin mining economics and the mechanical flows around it.

Layers (imports go one way, top depends on bottom)::

    cli/ web/ report/     thin shells: parse input, call the library, render (report, JSON API, dashboard)
    analytics/ flows/ hpc measured history (sensitivity, indicators) and institutional flows, AI/HPC sites
    sim/                  Monte-Carlo engine: scenario -> kernel -> results; sweeps, backcasts, calibration
    economics/            pure vectorised models: hashprice, breakeven, production cost, cost curve, fleet
    chain/                consensus-exact protocol rules: subsidy, nBits/target/difficulty, retarget
    data/                 embedded snapshot, sources and store (I/O only here and above)
"""

__version__ = "0.1.0"
