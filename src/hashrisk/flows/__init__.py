"""Mechanical flows around bitcoin mining: listed miners under stress, US DB pension rebalancing, BTC flows.

Modules (pure models; loaders are explicit functions that take a path or text):

- :mod:`hashrisk.flows.miners` -- listed miners' data schema (YAML/CSV), :func:`~hashrisk.flows.miners.load_miners`,
  :func:`~hashrisk.flows.miners.miner_stress` (cash cost per BTC, BTC to sell, runway at a price);
- :mod:`hashrisk.flows.pensions` -- :func:`~hashrisk.flows.pensions.pension_flows` (drift, theoretical imbalance,
  expected flow, funded status, glide-path de-risking);
- :mod:`hashrisk.flows.btc` -- :func:`~hashrisk.flows.btc.btc_flows` (treasury and ETF buying against miners'
  production and sales).

Packaged default inputs live in ``hashrisk/flows/data/*.yaml``; every number there is labelled ``fact:`` (with
its source and date) or ``assumption:`` in the file's ``sources`` table. The AI/HPC site model is
:mod:`hashrisk.hpc`.
"""
