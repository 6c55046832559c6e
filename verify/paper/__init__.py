"""The paper's claims: theory (bounds with explicit constants), meta-optimisation,
the train-by-train / train-by-validation experiment, and the distribution checks.
"""
