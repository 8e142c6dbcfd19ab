# ruff: noqa
# expect: rejected
# message: dunder name '__module__' is not allowed
from dataclasses import dataclass


@dataclass
class C:
    __module__ = "os"
    x: int = 0


def run(api):
    print(C())
