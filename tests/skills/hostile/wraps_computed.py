# ruff: noqa
# expect: rejected
# message: `wraps` takes only the wrapped function
import functools


def run(api):
    name = "_" * 2 + "globals" + "_" * 2

    @functools.wraps(run, assigned=(name,), updated=())
    def inner():
        pass

    print(inner)
