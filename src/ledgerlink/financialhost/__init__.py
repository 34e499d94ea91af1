"""FinancialHost: the on-premise middleware beside NAV or Visma Administration (design §10).

It imports nothing of the hub's internals; it shares only the wire contract in
:mod:`ledgerlink.wire` with the hub.
"""
