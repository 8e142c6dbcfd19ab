# ruff: noqa
# expect: exception
# message: plain data
def run(api):
    api.collect({1, 2, 3})
