# ruff: noqa
# expect: exception
# message: nested too deeply
def run(api):
    x = []
    for _ in range(100):
        x = [x]
    api.collect(x)
