# ruff: noqa
# expect: exception
# message: finite floats
def run(api):
    api.collect(float("nan"))
