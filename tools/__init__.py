"""Offline tools: plan, rehearse and submit, plus the helpers they share."""
