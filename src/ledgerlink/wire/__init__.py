"""The FinancialHost wire contract: typed operations, the signed envelope and its
verification. Shared by the hub's ``financialhost`` connector and the host; imports nothing
else of ours."""
