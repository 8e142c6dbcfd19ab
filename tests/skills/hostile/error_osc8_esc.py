# ruff: noqa
# expect: exception
# message: RuntimeError: \x1b\]8;;file:///etc/passwd
# an OSC-8 link to a local file and a fake bold-green achieved
def run(api):
    esc = chr(27)
    link = esc + "]8;;file:///etc/passwd" + esc + "\\" + "secret" + esc + "]8;;" + esc + "\\"
    raise RuntimeError(link + " " + esc + "[1;32machieved" + esc + "[0m")
