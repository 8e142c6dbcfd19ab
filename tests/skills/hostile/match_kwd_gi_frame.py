# ruff: noqa
# expect: rejected
# message: match on attribute 'gi_frame'
def run(api):
    def gen():
        yield 1

    match gen():
        case object(gi_frame=frame):
            print(frame)
