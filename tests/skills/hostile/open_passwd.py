# ruff: noqa
# expect: rejected
def run(api):
    print(open("/etc/passwd").read())
