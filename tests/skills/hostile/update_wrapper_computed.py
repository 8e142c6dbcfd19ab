# ruff: noqa
# expect: rejected
# message: access to attribute 'update_wrapper' is not allowed
import functools


def run(api):
    class W:
        pass

    w = W()
    functools.update_wrapper(w, run, assigned=("_" * 2 + "globals" + "_" * 2,), updated=())
    print(w)
