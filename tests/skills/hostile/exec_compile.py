# ruff: noqa
# expect: rejected
def run(api):
    code = compile("import os", "<x>", "exec")
    exec(code)
