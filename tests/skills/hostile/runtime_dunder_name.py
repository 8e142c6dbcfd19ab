# ruff: noqa
# expect: rejected
# message: 'getattr' needs a string literal attribute name
def run(api):
    name = "_" * 2 + "globals" + "_" * 2
    print(getattr(run, name))
