# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mcpgw_global_optspecs
    string join \n config= v/verbose q/quiet log-file= h/help V/version
end

function __fish_mcpgw_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mcpgw_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mcpgw_using_subcommand
    set -l cmd (__fish_mcpgw_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mcpgw -n "__fish_mcpgw_needs_command" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_needs_command" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_needs_command" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -s V -l version -d 'Print version'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "serve" -d 'Serve MCP on stdin/stdout: the command an AI client launches'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "proxy" -d 'Bridge stdin/stdout to one remote MCP server: a drop-in for `npx mcp-remote URL`'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "list" -d 'Show each configured server: transport, state, and what it offers'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "tools" -d 'Show the tools exactly as an AI client sees them'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "call" -d 'Call one tool through the gateway and print its result'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "keys" -d 'The HTTP face\'s API keys: who may use `mcpgw serve --listen`'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "add-key" -d 'Store a server\'s API key in the secret store (it replaces `{secret}` in its config)'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "remove-key" -d 'Forget a server\'s API key'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "login" -d 'Log in to a remote server with OAuth; the tokens go to the secret store'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "logout" -d 'Forget a server\'s OAuth tokens, revoking them where the server offers it'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "import" -d 'Bring an AI client\'s MCP servers into mcpgw: config into the config, secrets into the store'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c mcpgw -n "__fish_mcpgw_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand serve" -l listen -d 'Serve Streamable HTTP at http://ADDR/mcp instead, for many clients at once (a loopback address unless API keys exist); without ADDR, `[listen] address` of the config, else 127.0.0.1:8080' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand serve" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand serve" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand serve" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand serve" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand serve" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l header -d 'A header for every request, as \'Name: value\' (repeatable; `${VAR}` is expanded)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l transport -d 'http-first, http-only, sse-only or sse-first' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l ignore-tool -d 'Hide the tools that match this glob (repeatable)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l client-id -d 'OAuth: a client registered with the server\'s authorization server beforehand' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l client-secret -d 'OAuth: that client\'s secret (`${VAR}` is expanded)' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l client-metadata-url -d 'OAuth: the HTTPS URL of mcpgw\'s client ID metadata document, for servers that take them' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l scope -d 'OAuth: the scopes to ask for (repeatable) instead of the ones the server suggests' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l host -d 'mcp-remote\'s OAuth options: client info and metadata as JSON are read; the callback host is always 127.0.0.1, and the resource is what the server\'s metadata names' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l static-oauth-client-metadata -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l static-oauth-client-info -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l resource -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l allow-http -d 'Allow plain http to hosts other than this machine'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l debug -d 'mcp-remote\'s name for -v'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l silent -d 'mcp-remote\'s name for -q'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l no-browser -d 'OAuth: print the login URL instead of opening a browser'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -l device -d 'OAuth: log in with a code entered on any device (RFC 8628), where the server offers it'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand proxy" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand list" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand list" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand list" -l json -d 'Print JSON instead of a table'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand list" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand list" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand list" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -l json -d 'Print the tools/list JSON instead of a table'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand tools" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -l json -d 'Print the raw result JSON'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand call" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and not __fish_seen_subcommand_from create list revoke rotate help" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and not __fish_seen_subcommand_from create list revoke rotate help" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and not __fish_seen_subcommand_from create list revoke rotate help" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and not __fish_seen_subcommand_from create list revoke rotate help" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and not __fish_seen_subcommand_from create list revoke rotate help" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and not __fish_seen_subcommand_from create list revoke rotate help" -f -a "create" -d 'Make a key; it is printed once, and only its hash is kept'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and not __fish_seen_subcommand_from create list revoke rotate help" -f -a "list" -d 'The keys: name, first characters, scope, made, expires, last used (never the key)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and not __fish_seen_subcommand_from create list revoke rotate help" -f -a "revoke" -d 'Revoke a key: a running gateway refuses it from its next request'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and not __fish_seen_subcommand_from create list revoke rotate help" -f -a "rotate" -d 'Replace a key with a new one of the same scope; the old one works for the grace period'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and not __fish_seen_subcommand_from create list revoke rotate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from create" -l expires -d 'How long it works, e.g. 30d or 12h [default: until revoked]' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from create" -l servers -d 'The only servers it reaches, comma-separated [default: every one]' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from create" -l tools -d 'Tools it may see and call, as a glob of their exposed names (repeatable), e.g. \'github__search_*\' [default: every tool of its servers]' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from create" -l rate -d 'Requests it may make, e.g. 120/m (per s, m or h) [default: no limit]' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from create" -l identity -d 'Who holds it, sent to servers that ask for it (repeatable): email=…, name=…, team=…, roles=…, org=…' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from create" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from create" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from create" -l admin -d 'It may use /admin/* (reload) and see /stats of every key'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from create" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from list" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from list" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from list" -l json -d 'Print JSON instead of a table'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from revoke" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from revoke" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from revoke" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from revoke" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l grace -d 'How long the old key keeps working, e.g. 24h [default: 0, it stops at once]' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from rotate" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from rotate" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from rotate" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "create" -d 'Make a key; it is printed once, and only its hash is kept'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "list" -d 'The keys: name, first characters, scope, made, expires, last used (never the key)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke a key: a running gateway refuses it from its next request'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "rotate" -d 'Replace a key with a new one of the same scope; the old one works for the grace period'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand add-key" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand add-key" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand add-key" -l stdin -d 'Read the key from standard input instead of a hidden prompt'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand add-key" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand add-key" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand add-key" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand remove-key" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand remove-key" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand remove-key" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand remove-key" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand remove-key" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l timeout -d 'How long to wait for the browser [default: 5m]' -r
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l no-browser -d 'Do not open a browser: print the URL, and take the address it redirects to pasted'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -l device -d 'Log in with a code entered on any device (RFC 8628), where the server offers it'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand login" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand logout" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand logout" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand logout" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand logout" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand logout" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand import" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand import" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand import" -l dry-run -d 'Show what would be done, change nothing'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand import" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand import" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand import" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -l config -d 'The config file [default: ~/.config/mcpgw/config.toml, or the platform\'s config dir]' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -l log-file -d 'Write the log to this file instead of stderr' -r -F
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -s v -l verbose -d 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand completions" -s h -l help -d 'Print help'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from serve proxy list tools call keys add-key remove-key login logout import completions help" -f -a "serve" -d 'Serve MCP on stdin/stdout: the command an AI client launches'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from serve proxy list tools call keys add-key remove-key login logout import completions help" -f -a "proxy" -d 'Bridge stdin/stdout to one remote MCP server: a drop-in for `npx mcp-remote URL`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from serve proxy list tools call keys add-key remove-key login logout import completions help" -f -a "list" -d 'Show each configured server: transport, state, and what it offers'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from serve proxy list tools call keys add-key remove-key login logout import completions help" -f -a "tools" -d 'Show the tools exactly as an AI client sees them'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from serve proxy list tools call keys add-key remove-key login logout import completions help" -f -a "call" -d 'Call one tool through the gateway and print its result'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from serve proxy list tools call keys add-key remove-key login logout import completions help" -f -a "keys" -d 'The HTTP face\'s API keys: who may use `mcpgw serve --listen`'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from serve proxy list tools call keys add-key remove-key login logout import completions help" -f -a "add-key" -d 'Store a server\'s API key in the secret store (it replaces `{secret}` in its config)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from serve proxy list tools call keys add-key remove-key login logout import completions help" -f -a "remove-key" -d 'Forget a server\'s API key'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from serve proxy list tools call keys add-key remove-key login logout import completions help" -f -a "login" -d 'Log in to a remote server with OAuth; the tokens go to the secret store'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from serve proxy list tools call keys add-key remove-key login logout import completions help" -f -a "logout" -d 'Forget a server\'s OAuth tokens, revoking them where the server offers it'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from serve proxy list tools call keys add-key remove-key login logout import completions help" -f -a "import" -d 'Bring an AI client\'s MCP servers into mcpgw: config into the config, secrets into the store'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from serve proxy list tools call keys add-key remove-key login logout import completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and not __fish_seen_subcommand_from serve proxy list tools call keys add-key remove-key login logout import completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "create" -d 'Make a key; it is printed once, and only its hash is kept'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "list" -d 'The keys: name, first characters, scope, made, expires, last used (never the key)'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "revoke" -d 'Revoke a key: a running gateway refuses it from its next request'
complete -c mcpgw -n "__fish_mcpgw_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "rotate" -d 'Replace a key with a new one of the same scope; the old one works for the grace period'
