# ruff: noqa
# expect: exception
# message: 64-bit ints
def run(api):
    api.collect("tree", until=10**30)
