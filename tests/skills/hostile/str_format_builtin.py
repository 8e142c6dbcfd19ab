# ruff: noqa
# expect: rejected
def run(api):
    print(str.format("{0.__class__}", api))
