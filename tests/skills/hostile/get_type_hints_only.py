# ruff: noqa
# expect: rejected
# message: access to attribute 'get_type_hints' is not allowed
import typing


class A:
    x: "int"


def run(api):
    print(typing.get_type_hints(A))
