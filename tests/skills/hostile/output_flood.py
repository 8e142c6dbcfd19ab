# ruff: noqa
# expect: ok
def run(api):
    for _ in range(20000):
        print("x" * 100)
