# ruff: noqa
# expect: exception
# message: ValueError: \[/\] \[link=file:///etc/passwd\]x\[/link\]
def run(api):
    raise ValueError("[/] [link=file:///etc/passwd]x[/link] [bold green]achieved[/]")
