"""Writes of registry data: each in one transaction, validated, audited."""
