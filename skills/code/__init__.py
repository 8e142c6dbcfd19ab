"""Code skills: Python functions over an env's primitive API, and the sandbox that runs them."""
