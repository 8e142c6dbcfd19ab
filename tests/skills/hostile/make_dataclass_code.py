# ruff: noqa
# expect: rejected
# message: access to attribute 'make_dataclass' is not allowed
# dataclasses writes field names into code it exec's
import dataclasses


def run(api):
    name = "x=print(1)"
    C = dataclasses.make_dataclass("C", [(name, int)])
    print(C)
