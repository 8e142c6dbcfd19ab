# ruff: noqa
# expect: rejected
# message: match on attribute '(gi_frame|f_back)'
def run(api):
    def gen():
        yield 1

    g = gen()
    next(g)
    match g:
        case object(gi_frame=object(f_back=back)):
            print(back)
