"""Safe expressions over the facts, in CEL (Common Expression Language).

CEL has no access to Python: an expression can read the variables it is given
and call CEL's own functions, nothing else. Each expression is compiled once
when its criteria version is compiled; evaluation then reuses the program.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cel


class ExpressionError(ValueError):
    pass


# CEL's operators and the few standard functions criteria need. An expression calling anything else is
# refused when its criteria version is saved (CEL would fail only at evaluation, as "no such function").
ALLOWED_FUNCTIONS = frozenset(
    {
        "_&&_",
        "_||_",
        "!_",
        "-_",
        "_?_:_",
        "_==_",
        "_!=_",
        "_<_",
        "_<=_",
        "_>_",
        "_>=_",
        "_+_",
        "_-_",
        "_*_",
        "_/_",
        "_%_",
        "@in",
        "_[_]",
        "int",
        "double",
        "string",
        "bool",
        "size",
        "startsWith",
        "endsWith",
        "contains",
    }
)


@dataclass
class Expression:
    source: str
    program: cel.Program = field(repr=False)
    variables: frozenset[str]
    ordered: tuple[str, ...] = ()  # the variables, sorted once for explanations

    def __post_init__(self):
        self.ordered = tuple(sorted(self.variables))

    @classmethod
    def compile(cls, source: str, *, known: frozenset[str]) -> Expression:
        if not isinstance(source, str) or not source.strip():
            raise ExpressionError("an expression is required")
        try:
            program = cel.compile(source)
        except ValueError as exc:
            raise ExpressionError(str(exc).split("\n")[0]) from None
        variables = frozenset(program.variables())
        unknown = sorted(variables - known)
        if unknown:
            raise ExpressionError(f"unknown fact(s): {', '.join(unknown)}")
        functions = sorted(set(program.functions()) - ALLOWED_FUNCTIONS)
        if functions:
            raise ExpressionError(f"unknown function(s): {', '.join(functions)}")
        return cls(source=source, program=program, variables=variables)

    def run(self, context: cel.Context, values: dict) -> tuple[object, list[str]]:
        """(value, missing facts). A value of None with missing facts means "cannot be decided".

        CEL decides `a || b` when one side is true even if the other cannot be
        computed, so an expression over an unknown fact may still have a value.
        """
        try:
            result = self.program.execute(context)
        except (TypeError, RuntimeError, ValueError) as exc:
            missing = [v for v in self.ordered if values.get(v) is None]
            if missing:
                return None, missing
            raise ExpressionError(f"{self.source}: {exc}") from None
        if result is not None and result is not False:
            return result, []
        unknown = [v for v in self.ordered if values.get(v) is None]
        if result is None:
            # e.g. a yes/no fact nobody stated, used as a condition on its own
            return None, unknown
        if unknown:
            # CEL compares null without complaint (`null == 'key_chain'` is false). A "no" that read an unknown
            # fact is not a "no": it cannot be decided. A "yes" stands (`a || b` with a known true side).
            return None, unknown
        return False, []
