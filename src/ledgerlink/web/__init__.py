"""The hub's HTTP side: today the relay FinancialHost agents call (design §10)."""
