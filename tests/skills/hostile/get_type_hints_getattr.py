# ruff: noqa
# expect: rejected
# message: 'getattr' of attribute 'get_type_hints' is not allowed
import typing


def run(api):
    hints = getattr(typing, "get_type_hints")
    print(hints(run))
