"""Carrel's local server: an OpenAI-compatible API (`carrel serve`) and MCP tools
(`carrel mcp`) over the same Workbench the window and the command line use.

`runner.LocalServer` starts it; `app` holds the routes, `service.ServerCore` what they ask
of the Workbench, `scheduler.ModelScheduler` the one model owner, `guard.Guard` the door
(host, token, body size), `jobs.Job` a reply on its own thread, `mcp` the MCP tools.
"""
