# ruff: noqa
# expect: rejected
# message: access to attribute 'ForwardRef' is not allowed
import typing


def run(api):
    ref = typing.ForwardRef("()." + "_" * 2 + "class" + "_" * 2)
    print(ref)
