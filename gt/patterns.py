"""Regular expressions compiled on their first use: compiling one costs a process 0.1-0.3 ms at import,
and most commands never use most of them."""
from __future__ import annotations

import re
import sys
from typing import Any, AnyStr, cast


class _Lazy:
    """Stands for a pattern until it is first used, then puts the compiled pattern in its place in
    the module that defined it (a module that imported the name keeps this stand-in, which goes on
    answering through re's own cache)."""

    __slots__ = ("module", "name", "pattern", "flags")

    def __init__(self, module: str, name: str, pattern: str | bytes, flags: int) -> None:
        self.module, self.name, self.pattern, self.flags = module, name, pattern, flags

    def __getattr__(self, attribute: str) -> Any:
        compiled = re.compile(self.pattern, self.flags)
        namespace = sys.modules.get(self.module)
        if namespace is not None and getattr(namespace, self.name, None) is self:
            setattr(namespace, self.name, compiled)
        return getattr(compiled, attribute)


def lazy(module: str, name: str, pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """A pattern the module `module` holds as `name`, compiled on its first use."""
    return cast("re.Pattern[AnyStr]", _Lazy(module, name, pattern, flags))
