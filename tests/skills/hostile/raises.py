# ruff: noqa
# expect: exception
def run(api):
    api.do()
    raise ValueError("the skill gave up")
