"""mlpcalc: shapes, parameters and costs of MLPs, as Keras would report them, by arithmetic."""

from mlpcalc.api import Model, parse
from mlpcalc.core.errors import MlpcalcError, ModelError, SpecError
from mlpcalc.core.spec import Spec, parse_spec
from mlpcalc.version import __version__

__all__ = ["MlpcalcError", "Model", "ModelError", "Spec", "SpecError", "__version__", "parse", "parse_spec"]
