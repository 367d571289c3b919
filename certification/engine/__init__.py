"""The screening engine: criteria versions as data, compiled once, evaluated many times.

- `definition.py` validates a version's JSON and compiles its expressions (CEL);
- `evaluate.py` turns facts into a `ScreeningResult` with a verdict and an explanation.
"""

from certification.engine.definition import CompiledCriteria, CriteriaError, compile_criteria
from certification.engine.evaluate import ScreeningResult, evaluate, facts_hash, prepare_facts

__all__ = [
    "CompiledCriteria",
    "CriteriaError",
    "ScreeningResult",
    "compile_criteria",
    "evaluate",
    "facts_hash",
    "prepare_facts",
]
