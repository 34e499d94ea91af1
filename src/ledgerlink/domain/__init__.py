"""The domain: money, VAT, parties, work and invoices. Pure Python, no I/O, no framework.

Third-party data libraries are used for facts the domain needs (Babel for ISO 4217 currencies
and their minor units, python-stdnum for identifier check digits); they do no I/O of ours.
"""
