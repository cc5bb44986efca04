"""mlpcalc: shapes, parameters and costs of MLPs, as Keras would report them, by arithmetic."""

from mlpcalc.core.errors import MlpcalcError, ModelError, SpecError
from mlpcalc.core.model import Model, parse
from mlpcalc.core.spec import Spec, parse_spec

__version__ = "0.1.0"

__all__ = ["MlpcalcError", "Model", "ModelError", "Spec", "SpecError", "__version__", "parse", "parse_spec"]
