"""PSA use-cases: what the PSA does before anything goes to an ERP (set-up, imports,
drafting invoices from registrations, posting and crediting)."""
