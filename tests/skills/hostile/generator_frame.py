# ruff: noqa
# expect: rejected
def run(api):
    def gen():
        yield g.gi_frame.f_back.f_globals

    g = gen()
    print(next(g))
