"""The LangGraph machine: state, one node per file, routers, the graph factory and traces."""
