"""l2l-verify: certified verification of learning-to-learn step-size tuning.

Built on Wang, Yuan, Wu, Ge, "Guarantees for Tuning the Step Size using a Learning-to-Learn
Approach" (ICML 2021). See the README for the quick start and API.
"""

from typing import TYPE_CHECKING, Any

from .problems import LeastSquares, Quadratic

if TYPE_CHECKING:
    from .judge import Verdict, check_meta_gradient

__all__ = ["LeastSquares", "Quadratic", "Verdict", "__version__", "check_meta_gradient"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # the judge imports the backends and the truth engine: loaded on first use, so that
    # ``import verify`` (and the pytest plugin) stays light
    if name in ("check_meta_gradient", "Verdict"):
        from . import judge

        return getattr(judge, name)
    raise AttributeError(f"module 'verify' has no attribute {name!r}")
