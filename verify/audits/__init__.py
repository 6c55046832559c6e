"""Audits of client libraries: XLA flush-to-zero and NaN-masking of meta-gradient descent."""
