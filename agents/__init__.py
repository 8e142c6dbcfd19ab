"""The LLM-facing roles (planner, affordance scorer, verifier, coder, curriculum) and the CLI."""
