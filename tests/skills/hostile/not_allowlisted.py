# ruff: noqa
# expect: exception
def run(api):
    api.secret()
