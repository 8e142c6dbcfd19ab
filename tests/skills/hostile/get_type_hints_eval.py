# ruff: noqa
# expect: rejected
# message: (dunder attribute '__annotations__'|'get_type_hints')
import typing


def run(api):
    def f(x):
        return x

    code = "()." + "_" * 2 + "class" + "_" * 2
    f.__annotations__ = {"x": code}
    print(typing.get_type_hints(f))
