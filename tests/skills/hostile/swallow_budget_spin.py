# ruff: noqa
# expect: budget
def run(api):
    try:
        while True:
            api.do()
    except BaseException:
        while True:
            pass
