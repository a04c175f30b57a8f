
use builtin;
use str;

set edit:completion:arg-completer[mcpgw] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mcpgw'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mcpgw'= {
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand serve 'Serve MCP on stdin/stdout: the command an AI client launches'
            cand proxy 'Bridge stdin/stdout to one remote MCP server: a drop-in for `npx mcp-remote URL`'
            cand list 'Show each configured server: transport, state, and what it offers'
            cand tools 'Show the tools exactly as an AI client sees them'
            cand call 'Call one tool through the gateway and print its result'
            cand keys 'The HTTP face''s API keys: who may use `mcpgw serve --listen`'
            cand add-key 'Store a server''s API key in the secret store (it replaces `{secret}` in its config)'
            cand remove-key 'Forget a server''s API key'
            cand login 'Log in to a remote server with OAuth; the tokens go to the secret store'
            cand logout 'Forget a server''s OAuth tokens, revoking them where the server offers it'
            cand import 'Bring an AI client''s MCP servers into mcpgw: config into the config, secrets into the store'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpgw;serve'= {
            cand --listen 'Serve Streamable HTTP at http://ADDR/mcp instead, for many clients at once (a loopback address unless API keys exist); without ADDR, `[listen] address` of the config, else 127.0.0.1:8080'
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;proxy'= {
            cand --header 'A header for every request, as ''Name: value'' (repeatable; `${VAR}` is expanded)'
            cand --transport 'http-first, http-only, sse-only or sse-first'
            cand --ignore-tool 'Hide the tools that match this glob (repeatable)'
            cand --client-id 'OAuth: a client registered with the server''s authorization server beforehand'
            cand --client-secret 'OAuth: that client''s secret (`${VAR}` is expanded)'
            cand --client-metadata-url 'OAuth: the HTTPS URL of mcpgw''s client ID metadata document, for servers that take them'
            cand --scope 'OAuth: the scopes to ask for (repeatable) instead of the ones the server suggests'
            cand --host 'mcp-remote''s OAuth options: client info and metadata as JSON are read; the callback host is always 127.0.0.1, and the resource is what the server''s metadata names'
            cand --static-oauth-client-metadata 'static-oauth-client-metadata'
            cand --static-oauth-client-info 'static-oauth-client-info'
            cand --resource 'resource'
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand --allow-http 'Allow plain http to hosts other than this machine'
            cand --debug 'mcp-remote''s name for -v'
            cand --silent 'mcp-remote''s name for -q'
            cand --no-browser 'OAuth: print the login URL instead of opening a browser'
            cand --device 'OAuth: log in with a code entered on any device (RFC 8628), where the server offers it'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;list'= {
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand --json 'Print JSON instead of a table'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;tools'= {
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand --json 'Print the tools/list JSON instead of a table'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;call'= {
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand --json 'Print the raw result JSON'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;keys'= {
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand create 'Make a key; it is printed once, and only its hash is kept'
            cand list 'The keys: name, first characters, scope, made, expires, last used (never the key)'
            cand revoke 'Revoke a key: a running gateway refuses it from its next request'
            cand rotate 'Replace a key with a new one of the same scope; the old one works for the grace period'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpgw;keys;create'= {
            cand --expires 'How long it works, e.g. 30d or 12h [default: until revoked]'
            cand --servers 'The only servers it reaches, comma-separated [default: every one]'
            cand --tools 'Tools it may see and call, as a glob of their exposed names (repeatable), e.g. ''github__search_*'' [default: every tool of its servers]'
            cand --rate 'Requests it may make, e.g. 120/m (per s, m or h) [default: no limit]'
            cand --identity 'Who holds it, sent to servers that ask for it (repeatable): email=…, name=…, team=…, roles=…, org=…'
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand --admin 'It may use /admin/* (reload) and see /stats of every key'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;keys;list'= {
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand --json 'Print JSON instead of a table'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;keys;revoke'= {
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;keys;rotate'= {
            cand --grace 'How long the old key keeps working, e.g. 24h [default: 0, it stops at once]'
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;keys;help'= {
            cand create 'Make a key; it is printed once, and only its hash is kept'
            cand list 'The keys: name, first characters, scope, made, expires, last used (never the key)'
            cand revoke 'Revoke a key: a running gateway refuses it from its next request'
            cand rotate 'Replace a key with a new one of the same scope; the old one works for the grace period'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpgw;keys;help;create'= {
        }
        &'mcpgw;keys;help;list'= {
        }
        &'mcpgw;keys;help;revoke'= {
        }
        &'mcpgw;keys;help;rotate'= {
        }
        &'mcpgw;keys;help;help'= {
        }
        &'mcpgw;add-key'= {
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand --stdin 'Read the key from standard input instead of a hidden prompt'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;remove-key'= {
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;login'= {
            cand --timeout 'How long to wait for the browser [default: 5m]'
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand --no-browser 'Do not open a browser: print the URL, and take the address it redirects to pasted'
            cand --device 'Log in with a code entered on any device (RFC 8628), where the server offers it'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;logout'= {
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;import'= {
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand --dry-run 'Show what would be done, change nothing'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;completions'= {
            cand --config 'The config file [default: ~/.config/mcpgw/config.toml, or the platform''s config dir]'
            cand --log-file 'Write the log to this file instead of stderr'
            cand -v 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand --verbose 'More log output on stderr (-v debug, -vv trace); MCPGW_LOG overrides'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mcpgw;help'= {
            cand serve 'Serve MCP on stdin/stdout: the command an AI client launches'
            cand proxy 'Bridge stdin/stdout to one remote MCP server: a drop-in for `npx mcp-remote URL`'
            cand list 'Show each configured server: transport, state, and what it offers'
            cand tools 'Show the tools exactly as an AI client sees them'
            cand call 'Call one tool through the gateway and print its result'
            cand keys 'The HTTP face''s API keys: who may use `mcpgw serve --listen`'
            cand add-key 'Store a server''s API key in the secret store (it replaces `{secret}` in its config)'
            cand remove-key 'Forget a server''s API key'
            cand login 'Log in to a remote server with OAuth; the tokens go to the secret store'
            cand logout 'Forget a server''s OAuth tokens, revoking them where the server offers it'
            cand import 'Bring an AI client''s MCP servers into mcpgw: config into the config, secrets into the store'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpgw;help;serve'= {
        }
        &'mcpgw;help;proxy'= {
        }
        &'mcpgw;help;list'= {
        }
        &'mcpgw;help;tools'= {
        }
        &'mcpgw;help;call'= {
        }
        &'mcpgw;help;keys'= {
            cand create 'Make a key; it is printed once, and only its hash is kept'
            cand list 'The keys: name, first characters, scope, made, expires, last used (never the key)'
            cand revoke 'Revoke a key: a running gateway refuses it from its next request'
            cand rotate 'Replace a key with a new one of the same scope; the old one works for the grace period'
        }
        &'mcpgw;help;keys;create'= {
        }
        &'mcpgw;help;keys;list'= {
        }
        &'mcpgw;help;keys;revoke'= {
        }
        &'mcpgw;help;keys;rotate'= {
        }
        &'mcpgw;help;add-key'= {
        }
        &'mcpgw;help;remove-key'= {
        }
        &'mcpgw;help;login'= {
        }
        &'mcpgw;help;logout'= {
        }
        &'mcpgw;help;import'= {
        }
        &'mcpgw;help;completions'= {
        }
        &'mcpgw;help;help'= {
        }
    ]
    $completions[$command]
}
