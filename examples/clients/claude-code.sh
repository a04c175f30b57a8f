#!/bin/sh
# Registers mcpgw with Claude Code for every project of this user. The entry name "mcpgw" is
# five characters, which the default max_name_length (52) leaves room for: Claude Code
# exposes tools as mcp__mcpgw__<server>__<tool>, and hosts reject names over 64 characters.
claude mcp add --scope user mcpgw -- mcpgw serve
