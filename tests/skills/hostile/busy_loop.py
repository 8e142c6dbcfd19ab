# ruff: noqa
# expect: timeout
def run(api):
    while True:
        pass
