"""The integration engine (design §4–§8): connections, transfers, pulls, the integration log."""
