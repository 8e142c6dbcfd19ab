# ruff: noqa
# expect: rejected
def run(api):
    eval("__imp" + 'ort__("os").system("touch /tmp/mendako_pwned_eval")')
