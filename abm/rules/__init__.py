"""Behavioural rules, one module per mechanism; each stage function acts on the model's arrays."""
