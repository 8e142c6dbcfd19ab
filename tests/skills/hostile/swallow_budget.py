# ruff: noqa
# expect: budget
def run(api):
    while True:
        try:
            api.do()
        except BaseException:
            pass
