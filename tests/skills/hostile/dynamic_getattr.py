# ruff: noqa
# expect: rejected
def run(api):
    name = "_" + "env"
    getattr(api, name)
