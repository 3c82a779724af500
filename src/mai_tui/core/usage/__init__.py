"""Prices, the usage ledger, client organizations, budgets and the OpenRouter sync."""
