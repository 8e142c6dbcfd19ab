"""What an agent can do: skills (RL policies or code) and the on-disk library that holds them."""
