"""The Model Context Protocol server: the agent's own read-only tools for MCP clients (Claude, ChatGPT, IDEs).

- `catalog`: the tools (names and arguments as the contract lists them), each answered by the agent tool in
  `tools/` that the agent and Slack use, and which of them each role gets.
- `tokens`: bearer tokens for HTTP (`warmintro mcp-token`), signed and expiring.
- `server`: the MCPServer (official `mcp` SDK) with per-caller tool lists, refusals and a log line per call;
  `warmintro mcp --as EMAIL` runs it over stdio.
- `http`: streamable HTTP at `/mcp` (`warmintro mcp --http`, and mounted by `python bot.py`).
"""
