"""The audit ledger: a keyed (HMAC), anchored record of every audited row."""
