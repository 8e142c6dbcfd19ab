# ruff: noqa
# expect: rejected
def run(api):
    print(type(api).mro())
