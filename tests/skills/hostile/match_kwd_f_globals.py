# ruff: noqa
# expect: rejected
# message: match on attribute '(gi_frame|f_globals)'
def run(api):
    def gen():
        yield 1

    match gen():
        case object(gi_frame=object(f_globals=g)):
            print(g)
