# ruff: noqa
# expect: rejected
def run(api):
    g = (lambda: 0).__globals__
    g["__builtins__"]["__import__"]("os")
