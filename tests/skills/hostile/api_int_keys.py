# ruff: noqa
# expect: exception
# message: str keys
def run(api):
    api.collect({1: 2, 2: 3})
