# ruff: noqa
# expect: rejected
# message: positional class patterns are only allowed
def run(api):
    F = type(run)
    match run:
        case F(g):
            print(g)
