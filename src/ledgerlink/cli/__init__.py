"""The `ledgerlink` command line (Typer + rich): thin adapters over the use-cases."""
