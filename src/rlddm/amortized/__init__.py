"""The amortized posterior with BayesFlow 2.

``networks`` holds the BayesFlow wiring and imports Keras; importing this package alone
does not.
"""
