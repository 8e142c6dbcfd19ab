"""What an agent can do: skills (RL policies or code) and the on-disk library that holds them.

Other packages use the names below, not ``skills._home`` (private to skills): where mendako
keeps its files (``$MENDAKO_HOME``) and how it writes them."""

from skills._home import file_lock, mendako_home, write_json_atomic

__all__ = ["file_lock", "mendako_home", "write_json_atomic"]
