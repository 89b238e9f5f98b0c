"""Accountability: what each partner received (the ledger), push notices of corrections and
withdrawals (webhooks through a database outbox), takedown acknowledgements, and the
compliance check of the pages where partners republished a piece."""
