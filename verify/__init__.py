"""l2l-verify: certified verification of learning-to-learn step-size tuning.

Built on Wang, Yuan, Wu, Ge, "Guarantees for Tuning the Step Size using a Learning-to-Learn
Approach" (ICML 2021). See the README for the quick start and API.
"""

from .problems import LeastSquares, Quadratic

__all__ = ["LeastSquares", "Quadratic", "__version__"]
__version__ = "0.1.0"
