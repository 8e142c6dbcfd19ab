# ruff: noqa
# expect: rejected
def run(api):
    print(api.__dict__)
